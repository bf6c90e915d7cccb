// The chaos harness behind `npm run bench:chaos` and its small version in npm test: a
// warehouse-nightly backfill run once clean and once while the only worker process (the standalone
// src/worker.ts) is SIGKILLed again and again and restarted, Postgres is SIGKILLed once (and
// brought back after an outage) and the Temporal dev server is SIGKILLed once (and restarted on its
// state file). It then compares the two warehouses table by table and reads the ledger.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createPool, type Pool } from '../src/connectors/postgres.js';
import { dateRange } from '../src/pipelines/dates.js';
import { DIMENSIONS, FACTS } from '../src/pipelines/warehouse/activities.js';
import { warehouseNightly } from '../src/pipelines/warehouse/definition.js';
import { seedWarehouseDemo } from '../src/pipelines/warehouse/sample/demo-seed.js';
import { watchChild } from '../src/stack/child-watchdog.js';
import { embeddedUrl, startEmbeddedPostgres, type PostgresHandle } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { startTemporalDevServer, type TemporalHandle } from '../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../src/stack/tools.js';

export interface ChaosOptions {
  projectRoot: string;
  from: string;
  to: string;
  concurrency: number;
  workerKills: number;
  /** After which worker kill Postgres is killed (0: never), and for how long it stays down. */
  postgresKillAfter: number;
  postgresDownMs: number;
  temporalKillAfter: number;
  /**
   * After which worker kill Postgres hangs (0: never): the postmaster and every backend SIGSTOPped
   * for `postgresHangMs`, then SIGCONTed — a server that accepts TCP and answers nothing.
   */
  postgresHangAfter?: number;
  postgresHangMs?: number;
  temporalDownMs: number;
  /**
   * Each kill waits for progress — a job finishing since the previous kill — then a delay uniform in
   * [min, max] (landing inside the next jobs), so a round reaches its planned kills on a fast machine
   * as on a slow one, and the run always moves between two kills.
   */
  killEveryMs: [number, number];
  scale: { tenants: number; learners: number; eventsPerDay: number };
  ports: { pg?: number; temporal?: number; temporalUi?: number };
  seed: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  dates: number;
  cleanMs: number;
  chaosMs: number;
  workerKills: number;
  postgresKills: number;
  postgresHangs: number;
  temporalKills: number;
  workerSelfExits: number;
  extraMsPerKill: number;
  extraMsPerWorkerKill: number;
  checksumsEqual: boolean;
  tables: Record<string, { clean: string; chaos: string; equal: boolean }>;
  successRowsPerJobDate: { min: number; max: number; pairs: number; expectedPairs: number };
  runningRowsLeft: number;
  failedDates: string[];
  failedRowMessages: Record<string, number>;
  badCompletionTimes: number;
  oddRows: Record<string, unknown>[];
}

const DIMENSION_TABLES: string[] = DIMENSIONS.map((d) => d.table);
const WAREHOUSE_TABLES = [...DIMENSION_TABLES, ...FACTS.map((f) => f.table)];

/** Deterministic random numbers (mulberry32), so a run's kill times can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => {});
  const rand = random(opts.seed);
  const dir = path.join(opts.projectRoot, '.data', `chaos-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pgPort = await configuredOrFreePort(opts.ports.pg);
  const temporalPort = await configuredOrFreePort(opts.ports.temporal);
  const uiPort = await configuredOrFreePort(opts.ports.temporalUi);
  const pgDir = path.join(dir, 'pg');
  const startPg = () =>
    startEmbeddedPostgres({
      dataDir: pgDir,
      port: pgPort,
      databases: ['oltp', 'wh_clean', 'wh_chaos'],
      // Production durability (fsync, synchronous_commit, full_page_writes at their defaults): the
      // throwaway settings let a Postgres kill drop acknowledged commits, which proves nothing.
      ephemeral: false,
    });
  const startTemporal = () =>
    startTemporalDevServer({
      cliPath: temporalCliPath(opts.projectRoot),
      port: temporalPort,
      uiPort,
      dbFile: path.join(dir, 'temporal.sqlite'),
    });

  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const [pgStarted, temporalStarted, bundle] = await Promise.all([
    startPg(),
    startTemporal(),
    bundleWorkflowCode({
      workflowsPath: path.join(opts.projectRoot, 'src/workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    }),
  ]);
  let pgHandle: PostgresHandle = pgStarted;
  let temporal: TemporalHandle = temporalStarted;
  await writeFile(bundlePath, bundle.code);
  const url = (db: string) => embeddedUrl(pgPort, db);
  const pools: Record<string, Pool> = {
    oltp: createPool(url('oltp'), { max: 4 }),
    wh_clean: createPool(url('wh_clean'), { max: 4 }),
    wh_chaos: createPool(url('wh_chaos'), { max: 4 }),
  };
  let workerProc: ChildProcess | undefined;
  let connection: Connection | undefined;
  try {
    const t0 = Date.now();
    for (const wh of ['wh_clean', 'wh_chaos'] as const)
      await seedWarehouseDemo({
        oltp: pools.oltp!,
        warehouse: pools[wh]!,
        from: opts.from,
        to: opts.to,
        scale: opts.scale,
      });
    log(`seeded ${dateRange(opts.from, opts.to).length} dates in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });

    // ── one worker process, restartable ──
    let workerExits = 0;
    let killing = false;
    const startWorker = async (warehouse: string, taskQueue: string): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(opts.projectRoot, 'src/worker.ts')], {
        cwd: opts.projectRoot,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          WAREHOUSE_DATABASE_URL: url(warehouse),
          OLTP_DATABASE_URL: url('oltp'),
          WORKFLOW_BUNDLE_PATH: bundlePath,
          WORKER_SHUTDOWN_GRACE_SECONDS: '1',
          LOG_LEVEL: 'info',
          LEARNSYNC_OUTPUT_DIR: path.join(dir, 'output'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      watchChild(child.pid, 'SIGKILL');
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('worker started')) {
            child.stdout!.off('data', onData);
            child.stdout!.resume();
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        // The SDK's own INFO lines go to stderr too: pass on only what reports a problem.
        child.stderr!.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n'))
            if (line.trim() && !/\[INFO\]|^\s+(sdkComponent|taskQueue|state):|^\s*}$/.test(line))
              log(`worker: ${line.slice(0, 400)}`);
        });
        child.stdout!.on('data', (d: Buffer) => {
          for (const line of d.toString().split('\n'))
            if (/"level":(50|60)/.test(line)) log(`worker: ${line.slice(0, 400)}`);
        });
        child.once('exit', (code) =>
          reject(new Error(`worker exited before it started (code ${code}): ${out.slice(-500)}`)),
        );
      });
      child.once('exit', () => {
        if (!killing) workerExits++;
      });
      return child;
    };
    const killWorker = async () => {
      if (!workerProc || workerProc.exitCode !== null || workerProc.signalCode !== null) return;
      killing = true;
      const gone = new Promise((r) => workerProc!.once('exit', r));
      workerProc.kill('SIGKILL');
      await gone;
    };

    const runBackfill = async (warehouse: 'wh_clean' | 'wh_chaos', chaos: boolean) => {
      const taskQueue = `chaos-${warehouse}`;
      workerProc = await startWorker(warehouse, taskQueue);
      const started = Date.now();
      const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
      const workflowId = `chaos-${warehouse}-${process.pid}`;
      await client.workflow.start('backfillPipeline', {
        taskQueue,
        workflowId,
        args: [
          {
            pipeline: warehouseNightly.name,
            from: opts.from,
            to: opts.to,
            concurrency: opts.concurrency,
            force: false,
            outageWindowMinutes: 30,
          },
        ],
      });
      let done = false;
      let failedDates: string[] = [];
      // Follow the run through Temporal outages: only the workflow's own result ends the wait.
      const follow = (async () => {
        for (;;) {
          try {
            await client.workflow.getHandle(workflowId).result();
            return;
          } catch (err) {
            if (err instanceof WorkflowFailedError) {
              const details = (err.cause as { details?: unknown[] } | undefined)?.details?.[0] as
                { failed?: string[] } | undefined;
              failedDates = details?.failed ?? ['(backfill failed)'];
              return;
            }
            await sleep(1000);
          }
        }
      })().finally(() => {
        done = true;
      });
      // Restart a worker that exits by itself (e.g. while Temporal was down).
      const keepWorker = (async () => {
        while (!done) {
          await sleep(500);
          if (!done && !killing && workerProc && (workerProc.exitCode !== null || workerProc.signalCode !== null)) {
            log('worker exited on its own: restarting it');
            workerProc = await startWorker(warehouse, taskQueue).catch(() => workerProc!);
          }
        }
      })();
      const kills = { worker: 0, postgres: 0, postgresHang: 0, temporal: 0 };
      // SUCCESS rows so far (-1 while Postgres is down): what "progress" means for pacing the kills.
      const successes = () =>
        pools[warehouse]!.query<{ n: number }>(`SELECT count(*)::int AS n FROM etl_job_runs WHERE status = 'SUCCESS'`)
          .then((r) => r.rows[0]!.n)
          .catch(() => -1);
      let seen = 0;
      const progressed = async () => {
        for (;;) {
          if (done) return;
          const n = await successes();
          if (n > seen) {
            seen = n;
            return;
          }
          await sleep(100);
        }
      };
      if (chaos) {
        seen = Math.max(0, await successes());
        for (let k = 1; k <= opts.workerKills && !done; k++) {
          const [lo, hi] = opts.killEveryMs;
          await progressed();
          await sleep(lo + rand() * (hi - lo));
          if (done) break;
          killing = true;
          await killWorker();
          kills.worker++;
          log(`kill ${k}: worker SIGKILLed at ${((Date.now() - started) / 1000).toFixed(1)} s; restarting it`);
          workerProc = await startWorker(warehouse, taskQueue);
          killing = false;
          if (k === opts.postgresKillAfter && !done) {
            await progressed();
            await sleep(lo + rand() * (hi - lo));
            process.kill(pgHandle.pid!, 'SIGKILL');
            kills.postgres++;
            log(`Postgres SIGKILLed at ${elapsed()} s; down for ${opts.postgresDownMs / 1000} s`);
            await sleep(opts.postgresDownMs);
            pgHandle = await restart(startPg, log, 'Postgres');
          }
          if (k === (opts.postgresHangAfter ?? 0) && !done) {
            await progressed();
            await sleep(lo + rand() * (hi - lo));
            const pids = postgresProcesses(pgHandle.pid!);
            for (const pid of pids) process.kill(pid, 'SIGSTOP');
            kills.postgresHang++;
            const hangS = (opts.postgresHangMs ?? 0) / 1000;
            log(`Postgres hung (SIGSTOP, ${pids.length} processes) at ${elapsed()} s for ${hangS} s`);
            await sleep(opts.postgresHangMs ?? 0);
            for (const pid of pids) process.kill(pid, 'SIGCONT');
            log(`Postgres resumed (SIGCONT) at ${elapsed()} s`);
          }
          if (k === opts.temporalKillAfter && !done) {
            await progressed();
            await sleep(lo + rand() * (hi - lo));
            process.kill(temporal.pid!, 'SIGKILL');
            await temporal.exited;
            kills.temporal++;
            log(`Temporal SIGKILLed at ${elapsed()} s; down for ${opts.temporalDownMs / 1000} s`);
            await sleep(opts.temporalDownMs);
            temporal = await restart(startTemporal, log, 'Temporal');
          }
        }
      }
      await follow;
      await keepWorker;
      const ms = Date.now() - started;
      killing = true;
      await killWorker();
      killing = false;
      log(`${warehouse}: ${(ms / 1000).toFixed(1)} s, ${kills.worker} worker kills`);
      return { ms, kills, failedDates };
    };

    const clean = await runBackfill('wh_clean', false);
    const chaos = await runBackfill('wh_chaos', true);

    const tables: ChaosReport['tables'] = {};
    for (const t of WAREHOUSE_TABLES) {
      const [a, b] = [await tableChecksum(pools.wh_clean!, t), await tableChecksum(pools.wh_chaos!, t)];
      tables[t] = { clean: a, chaos: b, equal: a === b };
    }
    const ledger = await readLedger(pools.wh_chaos!, opts.from, opts.to);
    const allKills = chaos.kills.worker + chaos.kills.postgres + chaos.kills.temporal;
    const extra = chaos.ms - clean.ms;
    return {
      dates: dateRange(opts.from, opts.to).length,
      cleanMs: clean.ms,
      chaosMs: chaos.ms,
      workerKills: chaos.kills.worker,
      postgresKills: chaos.kills.postgres,
      postgresHangs: chaos.kills.postgresHang,
      temporalKills: chaos.kills.temporal,
      workerSelfExits: workerExits,
      extraMsPerKill: allKills ? Math.round(extra / allKills) : 0,
      extraMsPerWorkerKill: chaos.kills.worker ? Math.round(extra / chaos.kills.worker) : 0,
      checksumsEqual: Object.values(tables).every((t) => t.equal),
      tables,
      ...ledger,
      failedDates: [...clean.failedDates, ...chaos.failedDates],
    };
  } finally {
    if (workerProc && workerProc.exitCode === null) workerProc.kill('SIGKILL');
    await connection?.close().catch(() => {});
    await Promise.all(Object.values(pools).map((p) => p.end().catch(() => {})));
    await temporal.stop().catch(() => {});
    await pgHandle.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** The postmaster and its children (backends, background workers), to stop and resume together. */
function postgresProcesses(postmaster: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' });
  return [
    postmaster,
    ...out
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0),
  ];
}

async function restart<T>(start: () => Promise<T>, log: (l: string) => void, what: string): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      const h = await start();
      log(`${what} is back`);
      return h;
    } catch (err) {
      if (i >= 20) throw err;
      log(`${what} did not restart yet (${(err as Error).message.slice(0, 200)}); retrying`);
      await sleep(1000);
    }
  }
}

/**
 * md5 over a table's rows. Fact rows are compared whole (natural keys, dimension keys from the
 * as-of joins). Dimension rows leave out what depends on when the sync ran: their own surrogate
 * key and sync times (whether a version is current is kept).
 */
async function tableChecksum(db: Pool, table: string): Promise<string> {
  const own = `${table.replace(/^dw\.dim_/, '')}_key`;
  const row = DIMENSION_TABLES.includes(table)
    ? `((to_jsonb(t) - '${own}' - 'effective_from' - 'effective_to' - 'first_seen_at' - 'updated_at')
         || jsonb_build_object('current', to_jsonb(t)->'effective_to' = 'null'::jsonb))::text`
    : 't::text';
  const { rows } = await db.query<{ c: string }>(
    `SELECT count(*) || ':' || coalesce(md5(string_agg(x, E'\\n' ORDER BY x)), '-') AS c
       FROM (SELECT ${row} AS x FROM ${table} t) s`,
  );
  return rows[0]!.c;
}

async function readLedger(db: Pool, from: string, to: string) {
  const pairs = await db.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE status = 'SUCCESS')::int AS n FROM etl_job_runs
      WHERE target_date BETWEEN $1 AND $2 GROUP BY job_name, target_date`,
    [from, to],
  );
  const counts = pairs.rows.map((r) => r.n);
  const running = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM etl_job_runs WHERE status = 'RUNNING'`);
  const odd = await db.query(
    `SELECT job_name, target_date::text, status, workflow_id, attempt, worker, error_message, started_at, completed_at
       FROM etl_job_runs r WHERE (job_name, target_date) IN (
         SELECT job_name, target_date FROM etl_job_runs WHERE target_date BETWEEN $1 AND $2
          GROUP BY 1, 2
         HAVING count(*) FILTER (WHERE status = 'SUCCESS') <> 1 OR count(*) FILTER (WHERE status = 'RUNNING') > 0)
      ORDER BY job_name, target_date, started_at`,
    [from, to],
  );
  const failed = await db.query<{ kind: string; n: number }>(
    `SELECT split_part(coalesce(error_message, '?'), ':', 1) AS kind, count(*)::int AS n
       FROM etl_job_runs WHERE status = 'FAILED' GROUP BY 1 ORDER BY 2 DESC`,
  );
  const bad = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM etl_job_runs WHERE completed_at < started_at`,
  );
  return {
    successRowsPerJobDate: {
      min: counts.length ? Math.min(...counts) : 0,
      max: counts.length ? Math.max(...counts) : 0,
      pairs: counts.length,
      expectedPairs: dateRange(from, to).length * warehouseNightly.nodes.length,
    },
    runningRowsLeft: running.rows[0]!.n,
    failedRowMessages: Object.fromEntries(failed.rows.map((r) => [r.kind, r.n])),
    badCompletionTimes: bad.rows[0]!.n,
    /** Every ledger row of a job and date that does not end with exactly one SUCCESS (for diagnosis). */
    oddRows: odd.rows as Record<string, unknown>[],
  };
}
