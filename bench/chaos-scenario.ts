// What the chaos scenarios (bench/chaos-sources.ts, bench/chaos-wire.ts) share: the worker process
// they start, kill and restart (`src/worker.ts` under tsx with the bench's Temporal address and
// workflow bundle, a watchdog that SIGKILLs it if the bench dies, every stdout and stderr line handed
// to the caller: stage lines to time kills by, the SDK's "Activity failed … durationMs" lines), the
// run they start, and how a run is judged against its clean twin: the ledger's SUCCESS and RUNNING
// rows per job, learning-roi's CSV files and the app-db's BigQuery tables.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BigQuery } from '@google-cloud/bigquery';
import { runQuery } from '../src/connectors/bigquery/client.js';
import type { Pool } from '../src/connectors/postgres.js';
import { openSqlite } from '../src/connectors/sqlite-binding.js';
import { APP_DB_TABLES } from '../src/pipelines/app-db/definition.js';
import type { Client } from '@temporalio/client';
import { watchChild } from '../src/stack/child-watchdog.js';

export interface BenchWorker {
  /** Starts the worker with `env` on top of the bench's; resolves once it says "worker started". */
  start(env: Record<string, string>, onLine: (line: string) => void): Promise<ChildProcess>;
  /** SIGKILLs the running worker, if any, and waits for it to be gone. */
  kill(): Promise<void>;
}

export function benchWorker(opts: { projectRoot: string; temporalAddress: string; bundlePath: string }): BenchWorker {
  let worker: ChildProcess | undefined;
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let buffered = '';
    stream.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const l of parts) onLine(l);
    });
  };
  return {
    async start(env, onLine) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(opts.projectRoot, 'src/worker.ts')], {
        cwd: opts.projectRoot,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: opts.temporalAddress,
          WORKFLOW_BUNDLE_PATH: opts.bundlePath,
          WORKER_SHUTDOWN_GRACE_SECONDS: '1',
          LOG_LEVEL: 'debug',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      watchChild(child.pid, 'SIGKILL');
      worker = child;
      const started = new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`worker exited before it started (code ${code})`)));
        lines(child.stdout!, (l) => {
          if (l.includes('worker started')) resolve();
          onLine(l);
        });
      });
      lines(child.stderr!, onLine);
      await started;
      return child;
    },
    async kill() {
      const w = worker;
      if (!w || w.exitCode !== null || w.signalCode !== null) return;
      const gone = new Promise((r) => w.once('exit', r));
      w.kill('SIGKILL');
      await gone;
    },
  };
}

export interface PipelineRun {
  workflowId: string;
  /** True once the run ended, either way. */
  done(): boolean;
  /** Resolves when it ended: null, or the failure's message. */
  outcome: Promise<string | null>;
}

/** Starts `pipeline` for 2026-03-01 (forced, 30-minute outage window) on `taskQueue`. */
export async function startPipelineRun(client: Client, taskQueue: string, pipeline: string): Promise<PipelineRun> {
  const workflowId = `${taskQueue}-${process.pid}`;
  const handle = await client.workflow.start('runPipeline', {
    taskQueue,
    workflowId,
    args: [{ pipeline, targetDate: '2026-03-01', force: true, outageWindowMinutes: 30 }],
  });
  let ended = false;
  const outcome = handle
    .result()
    .then(
      () => null,
      (err: Error) => err.message,
    )
    .finally(() => {
      ended = true;
    });
  return { workflowId, done: () => ended, outcome };
}

export const PROJECT = 'learnsync-chaos';
export const HASH_KEY = 'chaos-bench-hash-key-0123456789';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A scenario's verdict: its outputs against the clean run's, and its ledger. */
export interface ScenarioOutcome {
  /** Per compared file or table: equal to the clean run's. */
  compared: Record<string, boolean>;
  equal: boolean;
  successPerJob: { min: number; max: number; jobs: number };
  runningRowsLeft: number;
  runFailed: string | null;
}

/** The verdict on a run: `compared` (none compared is not equal) and its ledger rows. */
export async function outcomeOf(
  compared: Record<string, boolean>,
  db: Pool,
  workflowId: string,
  runFailed: string | null,
): Promise<ScenarioOutcome> {
  const ledger = await ledgerOf(db, workflowId);
  return {
    compared,
    equal: Object.keys(compared).length > 0 && Object.values(compared).every(Boolean),
    successPerJob: ledger.successPerJob,
    runningRowsLeft: ledger.running,
    runFailed,
  };
}

/** SUCCESS rows per job (min, max) and RUNNING rows left, of one workflow run. */
async function ledgerOf(db: Pool, workflowId: string) {
  const { rows } = await db.query<{ ok: number; running: number }>(
    `SELECT count(*) FILTER (WHERE status = 'SUCCESS')::int AS ok,
            count(*) FILTER (WHERE status = 'RUNNING')::int AS running
       FROM etl_job_runs WHERE workflow_id = $1 GROUP BY job_name`,
    [workflowId],
  );
  const oks = rows.map((r) => r.ok);
  return {
    successPerJob: { min: Math.min(...oks), max: Math.max(...oks), jobs: rows.length },
    running: rows.reduce((n, r) => n + r.running, 0),
  };
}

/** Per key of either side: equal on both. */
export function sameOnBoth(a: Record<string, string>, b: Record<string, string>): Record<string, boolean> {
  return Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, a[k] === b[k]]));
}

/** sha256 of every learning-roi CSV file under an output folder. */
export async function roiCsvHashes(outputDir: string): Promise<Record<string, string>> {
  const folder = path.join(outputDir, 'learning-roi');
  const files = (await readdir(folder)).filter((f) => f.endsWith('.csv')).sort();
  const hash = async (f: string) =>
    createHash('sha256')
      .update(await readFile(path.join(folder, f)))
      .digest('hex');
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await hash(f)])));
}

/** Every app-db table of two BigQuery datasets, row by row. */
export async function appDbDatasetsEqual(bq: BigQuery, a: string, b: string): Promise<Record<string, boolean>> {
  const hash = async (dataset: string, table: string) => {
    const r = await runQuery<Record<string, unknown>>(
      { bq },
      `SELECT * FROM \`${PROJECT}.${dataset}.${table}\` ORDER BY id`,
    );
    return createHash('sha256').update(JSON.stringify(r.rows)).digest('hex');
  };
  const compared: Record<string, boolean> = {};
  for (const t of APP_DB_TABLES) compared[t.name] = (await hash(a, t.name)) === (await hash(b, t.name));
  return compared;
}

/** The same changes on a copy of the sample app database: every merge table's even rows move past its cursor. */
export function changeSampleAppDb(file: string): void {
  const d = openSqlite(file);
  try {
    for (const t of APP_DB_TABLES.filter((x) => x.mode === 'merge'))
      d.exec(`UPDATE ${t.name} SET ${t.cursorColumn} = '2030-01-01 00:00:00' WHERE id % 2 = 0`);
    d.exec(`UPDATE users SET first_name = first_name || ' changed' WHERE id % 2 = 0;
            UPDATE code_drafts SET code = 'x' WHERE id % 2 = 0;`);
  } finally {
    d.close();
  }
}
