// Faults on the wire, through a real Toxiproxy between learnsync's Postgres connector and the
// server: latency with jitter and a bandwidth limit still move every row exactly; a connection reset
// in the middle of a COPY rolls the whole load back and its retry lands each row once; a blackholed
// connection (no RST, no answer) no longer hangs a query forever — the liveness watchdog aborts it
// within seconds with a retryable database error, and the pool works again once the network does.
// (bench/chaos.ts has the 3-minute versions.) Skipped, with a line saying why, where Go is absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBetween, createPool, withTransaction, type Pool } from '../../src/connectors/postgres.js';
import { SchoolApiClient } from '../../src/connectors/school-api/client.js';
import { startSchoolApiServer, type SchoolApiServer } from '../../src/pipelines/school-api/sample/server.js';
import { outageKind } from '../../src/runtime/error-causes.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import {
  blackhole,
  cutAfter,
  slowLink,
  startToxiproxy,
  toxiproxyBinary,
  type ToxiproxyHandle,
} from '../support/toxiproxy.js';

const bin = toxiproxyBinary();
if (!bin) console.log('wire-faults: skipped — no .tools/toxiproxy-v2.5.0 (scripts/provision.sh builds it with Go)');

describe.skipIf(!bin)('faults on the wire to Postgres (Toxiproxy)', () => {
  let toxi: ToxiproxyHandle;
  let db: TestDatabases;
  let proxyPort: number;
  let proxied: (opts?: Parameters<typeof createPool>[1]) => Pool;
  const pools: Pool[] = [];

  beforeAll(async () => {
    toxi = await startToxiproxy(bin!);
    db = await createTestDatabases({ migrate: false });
    const url = new URL(db.warehouseUrl);
    ({ port: proxyPort } = await toxi.proxy('warehouse', Number(url.port)));
    proxied = (opts) => {
      const u = new URL(db.warehouseUrl);
      u.port = String(proxyPort);
      const pool = createPool(u.toString(), { max: 4, ...opts });
      pools.push(pool);
      return pool;
    };
    await db.warehouse.query(
      `CREATE TABLE wire_source AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 60000) g;
       CREATE TABLE wire_target (id int PRIMARY KEY, payload text NOT NULL)`,
    );
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await db?.close();
    await toxi?.stop();
  });

  const proxy = () => toxi.api.get('warehouse');
  const targetSummary = async () =>
    (
      await db.warehouse.query<{ n: number; sum: string; digest: string }>(
        `SELECT count(*)::int AS n, coalesce(sum(id), 0)::text AS sum,
                md5(coalesce(string_agg(payload, '' ORDER BY id), '')) AS digest FROM wire_target`,
      )
    ).rows[0]!;
  const sourceSummary = async () =>
    (
      await db.warehouse.query<{ n: number; sum: string; digest: string }>(
        `SELECT count(*)::int AS n, sum(id)::text AS sum, md5(string_agg(payload, '' ORDER BY id)) AS digest
           FROM wire_source`,
      )
    ).rows[0]!;
  // The connector's load shape: delete + COPY in one transaction, the source read through the proxy.
  const load = (source: Pool) =>
    withTransaction(db.warehouse, async (tx) => {
      await tx.query('DELETE FROM wire_target');
      return copyBetween(source, 'SELECT id, payload FROM wire_source', tx, 'wire_target', ['id', 'payload']);
    });

  it('latency with jitter and a bandwidth limit: every row arrives once', async () => {
    const unslow = await slowLink(await proxy(), { latencyMs: 40, jitterMs: 30, rateKBps: 2048 });
    try {
      expect(await load(proxied())).toBe(60000);
      expect(await targetSummary()).toEqual(await sourceSummary());
    } finally {
      await unslow();
    }
  });

  it('a reset in the middle of a COPY rolls the load back; the retry lands every row exactly once', async () => {
    await db.warehouse.query('TRUNCATE wire_target');
    await db.warehouse.query('INSERT INTO wire_target VALUES (-1, $1)', ['before']);
    const p = await proxy();
    // The server's answer is cut after 400 kB: mid-stream of the ~2.6 MB COPY, every time.
    const uncut = await cutAfter(p, 400_000, 'downstream');
    const source = proxied();
    const failure = await load(source).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure, 'the cut COPY must fail').toBeInstanceOf(Error);
    expect(outageKind(failure), String(failure)).toBeDefined(); // retryable: an outage, not bad data
    // Nothing half-loaded: the transaction kept the table as it was.
    expect((await db.warehouse.query('SELECT id, payload FROM wire_target')).rows).toEqual([
      { id: -1, payload: 'before' },
    ]);
    await uncut();
    expect(await load(source)).toBe(60000);
    expect(await targetSummary()).toEqual(await sourceSummary());
  });

  it('a blackholed connection: the watchdog aborts the hung query in seconds, the pool recovers', async () => {
    const liveness = { probeEveryMs: 250, probeTimeoutMs: 500, failuresToAbort: 2 };
    const watched = proxied({ liveness });
    const unwatched = proxied({ liveness: { probeEveryMs: 0 } });
    const [a, b] = [await watched.connect(), await unwatched.connect()];
    const p = await proxy();
    const reopen = await blackhole(p);
    const started = Date.now();
    const watchedResult = a.query('SELECT 1 AS one').then(
      () => 'answered',
      (err: Error) => err,
    );
    let unwatchedSettled = false;
    const unwatchedQuery = b.query('SELECT 1 AS one').then(
      () => (unwatchedSettled = true),
      () => (unwatchedSettled = true),
    );
    const outcome = await watchedResult;
    const tookMs = Date.now() - started;
    expect(outcome).toBeInstanceOf(Error);
    expect(outageKind(outcome), String(outcome)).toBeDefined(); // retryable, through the outage window
    expect(tookMs).toBeLessThan(10_000);
    // The control: the same query without the watchdog is still waiting — the hang was real.
    expect(unwatchedSettled).toBe(false);
    a.release(true);
    await reopen();
    expect((await watched.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    // The unwatched query answers once the network does: nothing was lost on its side either.
    await unwatchedQuery;
    expect(unwatchedSettled).toBe(true);
    b.release();
  });
});

describe.skipIf(!bin)('faults on the wire to a source API (Toxiproxy)', () => {
  let toxi: ToxiproxyHandle;
  let server: SchoolApiServer;
  let client: SchoolApiClient;

  beforeAll(async () => {
    toxi = await startToxiproxy(bin!);
    server = await startSchoolApiServer({ sizes: { cursus: 3 } });
    const { port } = await toxi.proxy('school', Number(new URL(server.url).port));
    const base = `http://127.0.0.1:${port}`;
    client = new SchoolApiClient({
      baseUrl: base,
      tokenUrl: `${base}/oauth/token`,
      clientId: 'sample-client',
      clientSecret: 'sample-secret',
      sleepBetweenCallsMs: 0,
      maxRetries: 1,
      backoffScale: 0,
      requestTimeoutMs: 1_000,
    });
  });

  afterAll(async () => {
    await server?.close();
    await toxi?.stop();
  });

  const page = () => client.getPage({ path: '/v2/cursus', endpoint: 'GET /v2/cursus', query: {}, page: 1, size: 100 });

  it('a blackholed source fails the call within its request timeout, then answers again', async () => {
    const first = await page();
    expect(first.kind).toBe('ok');
    const p = await toxi.api.get('school');
    const reopen = await blackhole(p);
    const started = Date.now();
    const outcome = await page().then(
      () => 'answered',
      (err: unknown) => err,
    );
    const tookMs = Date.now() - started;
    expect(outcome).toBeInstanceOf(Error);
    expect(outageKind(outcome), String(outcome)).toBeDefined(); // retryable through the outage window
    expect(tookMs).toBeLessThan(10_000); // two attempts of 1 s each, not a hang
    await reopen();
    const after = await page();
    expect(after).toEqual(first);
  });
});
