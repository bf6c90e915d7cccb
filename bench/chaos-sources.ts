// Kills where a source's work is half done (bench:chaos, issue 17 item 3): the only worker process
// SIGKILLed right after it starts extracting a Kusto window (learning-roi) and right after it starts
// applying an app-db table's staged rows to BigQuery (the MERGE), restarted each time. Each scenario
// runs once clean and once under kills, on a durable Postgres, the sample Kusto server the worker
// starts and one BigQuery emulator (a dataset per run); then compares: learning-roi's CSV files, the
// app-db's BigQuery tables row by row, exactly one SUCCESS per job of the run and nothing RUNNING.
import { copyFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createBigQueryClient } from '../src/connectors/bigquery/client.js';
import { createPool, type Pool } from '../src/connectors/postgres.js';
import { generateSampleAppDb } from '../src/pipelines/app-db/sample/generate.js';
import { startBigQueryEmulator } from '../src/stack/bigquery-emulator.js';
import { embeddedUrl, startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort } from '../src/stack/ports.js';
import { startTemporalDevServer } from '../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../src/stack/tools.js';
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

export interface SourceScenarioReport extends ScenarioOutcome {
  scenario: string;
  cleanMs: number;
  chaosMs: number;
  kills: number;
  plannedKills: number;
}

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

  const reports: SourceScenarioReport[] = [];
  try {
    // ── learning-roi: kills inside Kusto windows; its CSV files compared ──
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
    const roiCompared = sameOnBoth(
      await roiCsvHashes(path.join(dir, 'out-roi_clean')),
      await roiCsvHashes(path.join(dir, 'out-roi_chaos')),
    );
    reports.push({
      scenario: 'learning-roi, kills inside Kusto windows',
      cleanMs: roiClean.ms,
      chaosMs: roiChaos.ms,
      kills: roiChaos.kills,
      plannedKills: opts.kills,
      ...(await outcomeOf(
        roiCompared,
        pools.roi_chaos!,
        roiChaos.workflowId,
        roiClean.runFailed ?? roiChaos.runFailed,
      )),
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
    for (const db of ['app_clean', 'app_chaos']) {
      copyFileSync(source, path.join(dir, `${db}.sqlite`));
      await run(`${db}-first`, 'app-db-incremental', appEnv(db), undefined, 0);
      changeSampleAppDb(path.join(dir, `${db}.sqlite`));
    }
    const appClean = await run('app-clean', 'app-db-incremental', appEnv('app_clean'), undefined, 0);
    const appChaos = await run(
      'app-chaos',
      'app-db-incremental',
      appEnv('app_chaos'),
      /applying the staged rows to the BigQuery table/,
      opts.kills,
    );
    reports.push({
      scenario: 'app-db-incremental, kills inside MERGEs',
      cleanMs: appClean.ms,
      chaosMs: appChaos.ms,
      kills: appChaos.kills,
      plannedKills: opts.kills,
      ...(await outcomeOf(
        await appDbDatasetsEqual(bq, 'app_clean', 'app_chaos'),
        pools.app_chaos!,
        appChaos.workflowId,
        appClean.runFailed ?? appChaos.runFailed,
      )),
    });
    return reports;
  } finally {
    await kill();
    await connection.close();
    for (const p of Object.values(pools)) await p.end();
    await Promise.allSettled([temporal.stop(), emulator.stop(), pg.stop()]);
  }
}
