// CDC exactness across failures (issue 18), on a Postgres of its own (it gets killed): a consumer
// aborted mid-stream, then Postgres killed (immediate shutdown, crash recovery on restart) while a
// consumer is applying, then restarted — the SCD2 history still equals what the change log implies.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, type Pool } from '../../../src/connectors/postgres.js';
import { runCdc, startCdc, type CdcSource } from '../../../src/pipelines/warehouse/cdc.js';
import { createOltpSchema } from '../../../src/pipelines/warehouse/sample/schema.js';
import { startEmbeddedPostgres, type PostgresHandle } from '../../../src/stack/embedded-postgres.js';
import { freePort } from '../../../src/stack/ports.js';
import { migrate } from '../../../src/warehouse/migrate.js';
import { drain, expectHistoryMatches, Workload } from './cdc-workload.js';

let dir: string;
let port: number;
let handle: PostgresHandle;
let warehouse: Pool;
let oltp: Pool;

const start = () => startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port, databases: ['wh', 'oltp'] });
const connect = () => {
  warehouse = createPool(handle.url('wh'), { max: 4 });
  oltp = createPool(handle.url('oltp'), { max: 4 });
};

beforeAll(async () => {
  // Under .data like the shared test cluster: Postgres runs as its own user and must reach the directory.
  dir = path.resolve(import.meta.dirname, '../../../.data', `test-cdc-pg-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  port = await freePort();
  handle = await start();
  connect();
  await migrate(warehouse);
  await createOltpSchema(oltp);
});
afterAll(async () => {
  await Promise.all([warehouse?.end(), oltp?.end()]);
  await handle?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('an aborted consumer and a killed, restarted Postgres: still exact, nothing applied twice', async () => {
  const src: CdcSource = {
    name: 'oltp',
    oltpUrl: handle.url('oltp'),
    publication: 'learnsync_cdc',
    slot: 'learnsync_cdc',
  };
  await startCdc(warehouse, oltp, src);
  const work = new Workload(oltp, 18_002, 200);

  // 1. A consumer aborted mid-stream (the activity cancelled), while changes keep coming.
  const abort = new AbortController();
  const consuming = runCdc(warehouse, src, { durationMs: 30_000, maxBatchChanges: 200, signal: abort.signal });
  await work.run(2500);
  abort.abort();
  const first = await consuming;
  expect(first.changes).toBeGreaterThan(0);

  // 2. Postgres dies under a consumer that is applying (immediate shutdown: crash recovery on restart).
  await work.run(2500);
  let applied = 0;
  const dying = runCdc(warehouse, src, {
    durationMs: 30_000,
    maxBatchChanges: 100,
    onBatch: () => {
      applied++;
    },
  }).catch((err: unknown) => err);
  while (applied < 3) await new Promise((r) => setTimeout(r, 10));
  process.kill(handle.pid!, 'SIGQUIT');
  expect(await dying).toBeInstanceOf(Error);
  while (handle.alive()) await new Promise((r) => setTimeout(r, 50));
  await Promise.all([warehouse.end(), oltp.end()]);

  handle = await start();
  connect();
  work.db = oltp;
  await work.run(2000);
  await drain(warehouse, oltp, src);

  const versions = await expectHistoryMatches(warehouse, work.log);
  expect(versions).toBeGreaterThan(500);
  const state = await warehouse.query<{ changes: string }>(
    'SELECT changes_applied::text AS changes FROM cdc_slot_state',
  );
  // Every change was applied once: the counter stored with the batches equals the changes the workload made.
  expect(Number(state.rows[0]!.changes)).toBe(work.changes);
});
