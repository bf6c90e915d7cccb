// A Temporal outage while `learnsync backfill` follows: the dev server (state on disk) stops for
// longer than the SDK's own follower survives, then comes back; learnsync keeps following, reports
// the real result and exits 0. The plain SDK follower, measured in the same outage, gives up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { main } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { freePort, startTemporalDevServer, type TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../../src/stack/tools.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, projectRoot, quietRuntime, Worker } from '../support/temporal.js';

const TASK_QUEUE = 'learnsync-outage';
// Issue 10 asks for at least two minutes; the SDK alone gives up after ~20 s.
const MIN_OUTAGE_MS = 125_000;
let server: TemporalHandle | undefined;
let db: TestDatabases;
let port: number;
let uiPort: number;
const dbFile = path.join(mkdtempSync(path.join(tmpdir(), 'outage-')), 'temporal.sqlite');

// A restart on its SQLite file can take over a minute while the rest of the suite loads both cores
// (seen once on Node 24 in CI): the test is about the follower, so the server gets three minutes.
const startServer = async () =>
  (server = await startTemporalDevServer({
    cliPath: temporalCliPath(projectRoot),
    port,
    uiPort,
    dbFile,
    readyTimeoutMs: 180_000,
  }));

async function startWorker() {
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: `127.0.0.1:${port}` }),
    taskQueue: TASK_QUEUE,
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: mkdtempSync(path.join(tmpdir(), 'outage-out-')),
      logger: createLogger({ level: 'silent' }),
      config: loadConfig({}),
      sources: createSourceClients(loadConfig({})),
    }),
    ...bundledWorkerOptions(),
  });
  return { worker, running: worker.run() };
}

beforeAll(async () => {
  quietRuntime();
  [port, uiPort] = [await freePort(), await freePort()];
  [, db] = await Promise.all([startServer(), createTestDatabases()]);
  await seedSampleSource(db.oltp, { from: '2026-08-01', to: '2026-08-06', examsPerDay: 30, users: 40 });
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    WAREHOUSE_DATABASE_URL: db.warehouseUrl,
    OLTP_DATABASE_URL: db.oltpUrl,
    LOG_LEVEL: 'error',
  });
});
afterAll(async () => {
  await db?.close();
  await server?.stop();
});

it('backfill keeps following through a Temporal outage longer than the SDK survives, then exits 0', async () => {
  let first = await startWorker();
  const out: string[] = [];
  let datesDone = 0;
  const cli = main(
    ['backfill', 'learning-sample', '--from', '2026-08-01', '--to', '2026-08-06', '--concurrency', '1'],
    (l = '') => {
      out.push(l);
      datesDone = Math.max(datesDone, Number(/\] (\d+)\/6 dates/.exec(l)?.[1] ?? 0));
    },
  );
  for (let i = 0; i < 600 && datesDone < 1; i++) await new Promise((r) => setTimeout(r, 100));
  expect(datesDone).toBeGreaterThanOrEqual(1);

  // Outage: no worker (so nothing of the run is in flight), then no server.
  first.worker.shutdown();
  await first.running;
  const sdk = await Connection.connect({ address: `127.0.0.1:${port}` });
  const plain = new Client({ connection: sdk }).workflow.getHandle(
    'learnsync-backfill-learning-sample-2026-08-01-2026-08-06',
  );
  await server!.stop();
  const down = Date.now();
  // The SDK's own follower in the same outage: it gives up after its gRPC retries.
  const sdkGaveUpAfter = await plain.result().then(
    () => Infinity,
    () => Date.now() - down,
  );
  expect(sdkGaveUpAfter).toBeLessThan(MIN_OUTAGE_MS);
  await new Promise((r) => setTimeout(r, Math.max(MIN_OUTAGE_MS, sdkGaveUpAfter + 5_000) - (Date.now() - down)));
  const outageMs = Date.now() - down;
  await startServer();
  first = await startWorker();
  try {
    expect(await cli).toBe(0);
  } finally {
    first.worker.shutdown();
    await first.running;
    await sdk.close();
  }
  const text = out.join('\n');
  expect(text).toMatch(/cannot reach Temporal .*the run goes on without us/);
  expect(text).toMatch(/Temporal is back after (\d+ m )?\d+ s: following again/);
  expect(text).toMatch(/result: SUCCESS — 6 dates/);
  expect(outageMs).toBeGreaterThan(sdkGaveUpAfter);
  console.log(JSON.stringify({ outageMs, sdkGaveUpAfterMs: sdkGaveUpAfter }));
  const { rows } = await db.warehouse.query(
    `SELECT count(DISTINCT target_date)::int AS n FROM etl_job_runs
      WHERE job_name = 'load_dashboard' AND status = 'SUCCESS'`,
  );
  expect(rows[0].n).toBe(6);
}, 450_000);
