// Faults on the wire in bench:chaos (issue 17 item 2): the worker reaches Postgres, the sample Kusto
// server and the BigQuery emulator only through a real Toxiproxy. Two scenarios, each run once clean
// (through the proxies, no faults) and once under faults: latency with jitter and a bandwidth limit on
// every proxy for the whole run; a blackhole (no RST, no answer, both directions) of the source for
// `blackholeS` — Kusto at the first extraction window of learning-roi, BigQuery at the first MERGE
// of app-db-incremental — then resets of every Postgres connection that sends data for 3 s. Per
// scenario: outputs compared with the clean run (CSV files, BigQuery tables), one SUCCESS per job,
// nothing RUNNING, and how the blackhole was met: when the first call was abandoned (the liveness
// watchdog), how many attempts failed, and the longest failed attempt — none may hang for the
// blackhole's length while its heartbeat timer keeps it looking alive.
import { copyFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../src/config.js';
import { createBigQueryClient } from '../src/connectors/bigquery/client.js';
import { createPool, type Pool } from '../src/connectors/postgres.js';
import { generateSampleAppDb } from '../src/pipelines/app-db/sample/generate.js';
import { SAMPLE_KUSTO_TOKEN, sampleKustoServer } from '../src/pipelines/learning-roi/sample/source.js';
import { startBigQueryEmulator } from '../src/stack/bigquery-emulator.js';
import { embeddedUrl, startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort } from '../src/stack/ports.js';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../src/stack/tools.js';
import {
  blackhole,
  cutAfter,
  slowLink,
  startToxiproxy,
  toxiproxyBinary,
  type ToxiproxyProxy,
} from '../test/support/toxiproxy.js';
import {
  appDbDatasetsEqual,
  benchWorker,
  changeSampleAppDb,
  HASH_KEY,
  outcomeOf,
  PROJECT,
  roiCsvHashes,
  sameOnBoth,
  sleep,
  startPipelineRun,
  type ScenarioOutcome,
} from './chaos-scenario.js';

export interface WireScenarioReport extends ScenarioOutcome {
  scenario: string;
  cleanMs: number;
  wireMs: number;
  faults: string[];
  blackholeMs: number;
  /** From the blackhole's start to the first call abandoned by a watchdog (null: none was). */
  firstAbandonMs: number | null;
  /** Activity attempts that failed while the blackhole lasted (each retried). */
  failedAttempts: number;
  /** The longest of those attempts, as the SDK logged it. */
  maxFailedAttemptMs: number | null;
}

const ABANDONED = /liveness probes|still answers nothing|no answer from .* for \d+ s/;

export async function runWireScenarios(opts: {
  projectRoot: string;
  blackholeS: number;
  log: (line: string) => void;
}): Promise<WireScenarioReport[] | { skipped: string }> {
  const bin = toxiproxyBinary(opts.projectRoot);
  if (!bin) return { skipped: 'no .tools/toxiproxy-v2.5.0 (scripts/provision.sh builds it with Go)' };
  const dir = path.join(opts.projectRoot, '.data', `chaos-wire-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pgPort = await freePort();
  const dbs = ['roi_clean', 'roi_wire', 'app_clean', 'app_wire'];
  const scale = loadConfig({}).learningRoi.sampleScale;
  const [pg, temporal, emulator, bundle, kusto] = await Promise.all([
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
    sampleKustoServer(scale),
  ]);
  // After the others: its free port is chosen once theirs are taken, not alongside them.
  const toxi = await startToxiproxy(bin);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  const proxies = {
    pg: await toxi.proxy('pg', pgPort),
    kusto: await toxi.proxy('kusto', Number(new URL(kusto.server.url).port)),
    bq: await toxi.proxy('bq', Number(new URL(emulator.apiEndpoint).port)),
  };
  const viaProxy = (db: string) => embeddedUrl(proxies.pg.port, db);
  const pools = Object.fromEntries(dbs.map((d) => [d, createPool(embeddedUrl(pgPort, d), { max: 2 })])) as Record<
    string,
    Pool
  >;
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const bq = createBigQueryClient({ projectId: PROJECT, apiEndpoint: emulator.apiEndpoint });
  const worker = benchWorker({ projectRoot: opts.projectRoot, temporalAddress: temporal.address, bundlePath });

  const proxy = (name: keyof typeof proxies): Promise<ToxiproxyProxy> => toxi.api.get(name);
  let unslow: Array<() => Promise<void>> = [];
  const slowAll = async () => {
    for (const name of Object.keys(proxies) as (keyof typeof proxies)[])
      unslow.push(await slowLink(await proxy(name), { latencyMs: 20, jitterMs: 15, rateKBps: 4096 }));
  };
  const clearAll = async () => {
    for (const undo of unslow) await undo();
    unslow = [];
  };

  /**
   * One run of `pipeline`; with `blackholeOn`, the first worker line matching it starts a blackhole
   * of `source` for blackholeS, and once that is over, Postgres connections are reset for 3 s.
   */
  const run = async (
    name: string,
    pipeline: string,
    env: Record<string, string>,
    fault?: { on: RegExp; source: keyof typeof proxies },
  ) => {
    const taskQueue = `chaos-wire-${name}`;
    let holeAt: number | undefined;
    let holeEnd: number | undefined;
    let firstAbandon: number | null = null;
    let failed = 0;
    let maxFailed: number | null = null;
    let trigger = false;
    let awaitingDuration = false;
    const onLine = (l: string) => {
      if (fault && holeAt === undefined && fault.on.test(l)) trigger = true;
      const inHole = holeAt !== undefined && (holeEnd === undefined || Date.now() <= holeEnd + 1_000);
      if (!inHole) return;
      if (firstAbandon === null && ABANDONED.test(l)) firstAbandon = Date.now() - holeAt!;
      // The SDK logs `Activity failed` with its meta object over several lines; durationMs comes after.
      if (/Activity failed/.test(l)) {
        failed++;
        awaitingDuration = true;
      }
      const ms = awaitingDuration ? /durationMs['"]?:\s*(\d+)/.exec(l)?.[1] : undefined;
      if (ms) {
        maxFailed = Math.max(maxFailed ?? 0, Number(ms));
        awaitingDuration = false;
      }
    };
    await worker.start({ ...env, TEMPORAL_TASK_QUEUE: taskQueue }, onLine);
    const started = Date.now();
    const pipelineRun = await startPipelineRun(client, taskQueue, pipeline);
    const { workflowId } = pipelineRun;
    while (!pipelineRun.done()) {
      if (trigger && fault && holeAt === undefined) {
        const reopen = await blackhole(await proxy(fault.source));
        holeAt = Date.now();
        opts.log(
          `${name}: ${fault.source} blackholed at ${((holeAt - started) / 1000).toFixed(1)} s for ${opts.blackholeS} s`,
        );
        void (async () => {
          await sleep(opts.blackholeS * 1000);
          await reopen();
          holeEnd = Date.now();
          opts.log(`${name}: ${fault.source} answers again; Postgres connections reset for 3 s`);
          const uncut = await cutAfter(await proxy('pg'), 1, 'upstream');
          await sleep(3_000);
          await uncut();
        })();
      }
      await sleep(100);
    }
    const runFailed = await pipelineRun.outcome;
    const ms = Date.now() - started;
    await worker.kill();
    return {
      ms,
      runFailed,
      workflowId,
      blackholeMs: holeAt !== undefined && holeEnd !== undefined ? holeEnd - holeAt : 0,
      firstAbandonMs: firstAbandon,
      failedAttempts: failed,
      maxFailedAttemptMs: maxFailed,
    };
  };

  const faults = [
    'latency 20±15 ms and 4 MB/s on every proxy',
    `${opts.blackholeS} s blackhole of the source`,
    'Postgres connections reset for 3 s after it',
  ];
  const report = async (
    scenario: string,
    clean: Awaited<ReturnType<typeof run>>,
    wire: Awaited<ReturnType<typeof run>>,
    compared: Record<string, boolean>,
    db: Pool,
  ): Promise<WireScenarioReport> => {
    return {
      scenario,
      cleanMs: clean.ms,
      wireMs: wire.ms,
      faults,
      blackholeMs: wire.blackholeMs,
      firstAbandonMs: wire.firstAbandonMs,
      failedAttempts: wire.failedAttempts,
      maxFailedAttemptMs: wire.maxFailedAttemptMs,
      ...(await outcomeOf(compared, db, wire.workflowId, clean.runFailed ?? wire.runFailed)),
    };
  };

  const reports: WireScenarioReport[] = [];
  try {
    // ── learning-roi: Kusto blackholed inside the first extraction window ──
    const roiEnv = (db: string) => ({
      WAREHOUSE_DATABASE_URL: viaProxy(db),
      OLTP_DATABASE_URL: viaProxy(db),
      LEARNSYNC_OUTPUT_DIR: path.join(dir, `out-${db}`),
      KUSTO_ANALYTICS_CLUSTER_URL: `http://127.0.0.1:${proxies.kusto.port}`,
      KUSTO_EXAM_CLUSTER_URL: `http://127.0.0.1:${proxies.kusto.port}`,
      KUSTO_AUTH: 'access-token',
      KUSTO_ACCESS_TOKEN: SAMPLE_KUSTO_TOKEN,
    });
    const roiClean = await run('roi-clean', 'learning-roi', roiEnv('roi_clean'));
    await slowAll();
    const roiWire = await run('roi-wire', 'learning-roi', roiEnv('roi_wire'), {
      on: /extracting a Kusto window/,
      source: 'kusto',
    });
    await clearAll();
    const roiCompared = sameOnBoth(
      await roiCsvHashes(path.join(dir, 'out-roi_clean')),
      await roiCsvHashes(path.join(dir, 'out-roi_wire')),
    );
    reports.push(await report('learning-roi, Kusto blackholed', roiClean, roiWire, roiCompared, pools.roi_wire!));

    // ── app-db: a first sync, the same changes on both copies, BigQuery blackholed at the first MERGE ──
    const source = path.join(dir, 'app.sqlite');
    generateSampleAppDb(source, { chatRows: 20_000 });
    const appEnv = (db: string) => ({
      WAREHOUSE_DATABASE_URL: viaProxy(db),
      OLTP_DATABASE_URL: viaProxy(db),
      APP_DB_SQLITE_PATH: path.join(dir, `${db}.sqlite`),
      APP_DB_HASH_KEY: HASH_KEY,
      BIGQUERY_PROJECT: PROJECT,
      BIGQUERY_API_ENDPOINT: `http://127.0.0.1:${proxies.bq.port}`,
      BIGQUERY_DATASET: db,
      // Google's endpoint's setting: the emulator's default (60 s) allows for its statements, which
      // block its every answer; the sample's statements take a few seconds at most.
      BIGQUERY_SILENCE_SECONDS: '16',
      LEARNSYNC_OUTPUT_DIR: path.join(dir, `out-${db}`),
    });
    for (const db of ['app_clean', 'app_wire']) {
      copyFileSync(source, path.join(dir, `${db}.sqlite`));
      await run(`${db}-first`, 'app-db-incremental', appEnv(db));
      changeSampleAppDb(path.join(dir, `${db}.sqlite`));
    }
    const appClean = await run('app-clean', 'app-db-incremental', appEnv('app_clean'));
    await slowAll();
    const appWire = await run('app-wire', 'app-db-incremental', appEnv('app_wire'), {
      on: /applying the staged rows to the BigQuery table/,
      source: 'bq',
    });
    await clearAll();
    const appCompared = await appDbDatasetsEqual(bq, 'app_clean', 'app_wire');
    reports.push(
      await report('app-db-incremental, BigQuery blackholed', appClean, appWire, appCompared, pools.app_wire!),
    );
    return reports;
  } finally {
    await worker.kill();
    await connection.close();
    for (const p of Object.values(pools)) await p.end();
    await Promise.allSettled([temporal.stop(), emulator.stop(), pg.stop(), toxi.stop(), kusto.server.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}
