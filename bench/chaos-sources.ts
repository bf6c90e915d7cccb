// Kills where a source's work is half done (bench:chaos, issue 17 item 3): the only worker process
// SIGKILLed right after it starts extracting a Kusto window (learning-roi) and right after it starts
// applying an app-db table's staged rows to BigQuery (the MERGE), restarted each time. Each scenario
// runs once clean and once under kills, on a durable Postgres, the sample Kusto server the worker
// starts and one BigQuery emulator (a dataset per run); then compares: learning-roi's CSV files, the
// app-db's BigQuery tables row by row, exactly one SUCCESS per job of the run and nothing RUNNING.
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createBigQueryClient, runQuery, type BigQueryTarget } from '../src/connectors/bigquery/client.js';
import { createPool, type Pool } from '../src/connectors/postgres.js';
import { openSqlite } from '../src/connectors/sqlite-binding.js';
import { APP_DB_TABLES } from '../src/pipelines/app-db/definition.js';
import { generateSampleAppDb } from '../src/pipelines/app-db/sample/generate.js';
import { startBigQueryEmulator } from '../src/stack/bigquery-emulator.js';
import { embeddedUrl, startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort } from '../src/stack/ports.js';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../src/stack/tools.js';
import { benchWorker, startPipelineRun } from './chaos-worker.js';

export interface SourceScenarioReport {
  scenario: string;
  cleanMs: number;
  chaosMs: number;
  kills: number;
  plannedKills: number;
  /** Per compared file or table: equal to the clean run's. */
  compared: Record<string, boolean>;
  equal: boolean;
  successPerJob: { min: number; max: number; jobs: number };
  runningRowsLeft: number;
  runFailed: string | null;
}

const PROJECT = 'learnsync-chaos';
const HASH_KEY = 'chaos-bench-hash-key-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSourceScenarios(opts: {
  projectRoot: string;
  kills: number;
  seed: number;
  log: (line: string) => void;
}): Promise<SourceScenarioReport[]> {
  let seed = opts.seed;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const dir = path.join(opts.projectRoot, '.data', `chaos-sources-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pgPort = await freePort();
  const dbs = ['roi_clean', 'roi_chaos', 'app_clean', 'app_chaos'];
  const [pg, temporal, emulator, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, databases: dbs, ephemeral: false }),
    startTemporalDevServer({
      cliPath: temporalCliPath(opts.projectRoot),
      port: await freePort(),
      uiPort: await freePort(),
    }),
    startBigQueryEmulator({ projectRoot: opts.projectRoot, projectId: PROJECT }),
    bundleWorkflowCode({
      workflowsPath: path.join(opts.projectRoot, 'src/workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    }),
  ]);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  const pools = Object.fromEntries(dbs.map((d) => [d, createPool(embeddedUrl(pgPort, d), { max: 2 })])) as Record<
    string,
    Pool
  >;
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const bq = createBigQueryClient({ projectId: PROJECT, apiEndpoint: emulator.apiEndpoint });
  const target = (dataset: string): BigQueryTarget => ({ bq, projectId: PROJECT, datasetId: dataset });

  const worker = benchWorker({ projectRoot: opts.projectRoot, temporalAddress: temporal.address, bundlePath });
  const kill = () => worker.kill();

  /** One run of `pipeline` on its own task queue; under chaos, a kill 0-400 ms after each stage line. */
  const run = async (
    name: string,
    pipeline: string,
    env: Record<string, string>,
    stageLine: RegExp | undefined,
    kills: number,
  ) => {
    const taskQueue = `chaos-src-${name}`;
    let seen = 0;
    let pendingKill = false;
    const onLine = (l: string) => {
      if (stageLine?.test(l) && seen < kills && !pendingKill) pendingKill = true;
    };
    await worker.start({ ...env, TEMPORAL_TASK_QUEUE: taskQueue }, onLine);
    const started = Date.now();
    const pipelineRun = await startPipelineRun(client, taskQueue, pipeline);
    const { workflowId } = pipelineRun;
    while (!pipelineRun.done()) {
      if (pendingKill) {
        await sleep(rand() * 400);
        if (pipelineRun.done()) break;
        await kill();
        seen++;
        opts.log(`${name}: kill ${seen} at ${((Date.now() - started) / 1000).toFixed(1)} s, inside ${stageLine}`);
        await worker.start({ ...env, TEMPORAL_TASK_QUEUE: taskQueue }, onLine);
        pendingKill = false;
      }
      await sleep(50);
    }
    const runFailed = await pipelineRun.outcome;
    const ms = Date.now() - started;
    await kill();
    return { ms, kills: seen, runFailed, workflowId };
  };

  const ledger = async (db: Pool, workflowId: string) => {
    const { rows } = await db.query<{ job_name: string; ok: number; running: number }>(
      `SELECT job_name, count(*) FILTER (WHERE status = 'SUCCESS')::int AS ok,
              count(*) FILTER (WHERE status = 'RUNNING')::int AS running
         FROM etl_job_runs WHERE workflow_id = $1 GROUP BY job_name`,
      [workflowId],
    );
    const oks = rows.map((r) => r.ok);
    return {
      successPerJob: { min: Math.min(...oks), max: Math.max(...oks), jobs: rows.length },
      running: rows.reduce((n, r) => n + r.running, 0),
    };
  };

  const reports: SourceScenarioReport[] = [];
  try {
    // ── learning-roi: kills inside Kusto windows; its CSV files compared ──
    const csvs = async (out: string) => {
      const folder = path.join(out, 'learning-roi');
      const files = (await readdir(folder)).filter((f) => f.endsWith('.csv')).sort();
      return Object.fromEntries(
        await Promise.all(
          files.map(async (f) => [
            f,
            createHash('sha256')
              .update(await readFile(path.join(folder, f)))
              .digest('hex'),
          ]),
        ),
      ) as Record<string, string>;
    };
    const roiEnv = (db: string) => ({
      WAREHOUSE_DATABASE_URL: embeddedUrl(pgPort, db),
      OLTP_DATABASE_URL: embeddedUrl(pgPort, db),
      LEARNSYNC_OUTPUT_DIR: path.join(dir, `out-${db}`),
    });
    const roiClean = await run('roi-clean', 'learning-roi', roiEnv('roi_clean'), undefined, 0);
    const roiChaos = await run(
      'roi-chaos',
      'learning-roi',
      roiEnv('roi_chaos'),
      /extracting a Kusto window/,
      opts.kills,
    );
    const [a, b] = [await csvs(path.join(dir, 'out-roi_clean')), await csvs(path.join(dir, 'out-roi_chaos'))];
    const roiCompared = Object.fromEntries(Object.keys({ ...a, ...b }).map((f) => [f, a[f] === b[f]]));
    const roiLedger = await ledger(pools.roi_chaos!, roiChaos.workflowId);
    reports.push({
      scenario: 'learning-roi, kills inside Kusto windows',
      cleanMs: roiClean.ms,
      chaosMs: roiChaos.ms,
      kills: roiChaos.kills,
      plannedKills: opts.kills,
      compared: roiCompared,
      equal: Object.keys(roiCompared).length > 0 && Object.values(roiCompared).every(Boolean),
      successPerJob: roiLedger.successPerJob,
      runningRowsLeft: roiLedger.running,
      runFailed: roiClean.runFailed ?? roiChaos.runFailed,
    });

    // ── app-db: a first sync, the same changes on both copies, then kills inside the MERGEs ──
    const source = path.join(dir, 'app.sqlite');
    generateSampleAppDb(source, { chatRows: 20_000 });
    const appEnv = (db: string) => ({
      WAREHOUSE_DATABASE_URL: embeddedUrl(pgPort, db),
      OLTP_DATABASE_URL: embeddedUrl(pgPort, db),
      APP_DB_SQLITE_PATH: path.join(dir, `${db}.sqlite`),
      APP_DB_HASH_KEY: HASH_KEY,
      BIGQUERY_PROJECT: PROJECT,
      BIGQUERY_API_ENDPOINT: emulator.apiEndpoint,
      BIGQUERY_DATASET: db,
      LEARNSYNC_OUTPUT_DIR: path.join(dir, `out-${db}`),
    });
    // Every merge table's even rows move past its cursor (some with a changed value): one MERGE per table.
    const change = (file: string) => {
      const d = openSqlite(file);
      try {
        for (const t of APP_DB_TABLES.filter((x) => x.mode === 'merge'))
          d.exec(`UPDATE ${t.name} SET ${t.cursorColumn} = '2030-01-01 00:00:00' WHERE id % 2 = 0`);
        d.exec(`UPDATE users SET first_name = first_name || ' changed' WHERE id % 2 = 0;
                UPDATE code_drafts SET code = 'x' WHERE id % 2 = 0;`);
      } finally {
        d.close();
      }
    };
    for (const db of ['app_clean', 'app_chaos']) {
      copyFileSync(source, path.join(dir, `${db}.sqlite`));
      await run(`${db}-first`, 'app-db-incremental', appEnv(db), undefined, 0);
      change(path.join(dir, `${db}.sqlite`));
    }
    const appClean = await run('app-clean', 'app-db-incremental', appEnv('app_clean'), undefined, 0);
    const appChaos = await run(
      'app-chaos',
      'app-db-incremental',
      appEnv('app_chaos'),
      /applying the staged rows to the BigQuery table/,
      opts.kills,
    );
    const tableHash = async (dataset: string, table: string) => {
      const r = await runQuery<Record<string, unknown>>(
        target(dataset),
        `SELECT * FROM \`${PROJECT}.${dataset}.${table}\` ORDER BY id`,
      );
      return createHash('sha256').update(JSON.stringify(r.rows)).digest('hex');
    };
    const appCompared: Record<string, boolean> = {};
    for (const t of APP_DB_TABLES)
      appCompared[t.name] = (await tableHash('app_clean', t.name)) === (await tableHash('app_chaos', t.name));
    const appLedger = await ledger(pools.app_chaos!, appChaos.workflowId);
    reports.push({
      scenario: 'app-db-incremental, kills inside MERGEs',
      cleanMs: appClean.ms,
      chaosMs: appChaos.ms,
      kills: appChaos.kills,
      plannedKills: opts.kills,
      compared: appCompared,
      equal: Object.values(appCompared).every(Boolean),
      successPerJob: appLedger.successPerJob,
      runningRowsLeft: appLedger.running,
      runFailed: appClean.runFailed ?? appChaos.runFailed,
    });
    return reports;
  } finally {
    await kill();
    await connection.close();
    for (const p of Object.values(pools)) await p.end();
    await Promise.allSettled([temporal.stop(), emulator.stop(), pg.stop()]);
  }
}
