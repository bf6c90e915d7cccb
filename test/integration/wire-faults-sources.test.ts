// Faults on the wire between learnsync's source and target connectors and the servers they speak
// to — the local Kusto (REST v2), GitHub (REST) and BigQuery (bqemulator) — through a real
// Toxiproxy: latency with jitter and a bandwidth limit change nothing in what arrives; a reset in
// the middle of a response or an upload fails the call as a retryable outage and lands nothing
// half; a blackholed route (no RST, no answer, both directions) fails the call within seconds — the
// liveness watchdog (Kusto, BigQuery: http-liveness.ts) or the request timeout (GitHub) — instead of
// hanging while the activity's heartbeat timer keeps it looking alive; and once the network is back
// the same call answers the same. Skipped, with a line saying why, where Go or the emulator is absent.
import type { AccessToken } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBigQueryClient,
  loadNdjson,
  runQuery,
  type BigQueryTarget,
} from '../../src/connectors/bigquery/client.js';
import { GithubClient } from '../../src/connectors/github/client.js';
import type { HttpLivenessOptions } from '../../src/connectors/http-liveness.js';
import { KustoCluster } from '../../src/connectors/kusto/client.js';
import { startGithubServer, type GithubServer } from '../../src/pipelines/github/sample/server.js';
import { startKustoServer, type KustoServerHandle } from '../../src/pipelines/learning-roi/sample/kusto-server.js';
import { outageKind } from '../../src/runtime/error-causes.js';
import type { BigQueryEmulatorHandle } from '../../src/stack/bigquery-emulator.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors.js';
import { emulatorAvailable, startEmulator, PROJECT } from '../pipelines/app-db/support.js';
import {
  blackhole,
  cutAfter,
  slowLink,
  startToxiproxy,
  toxiproxyBinary,
  type ToxiproxyHandle,
  type ToxiproxyProxy,
} from '../support/toxiproxy.js';

const bin = toxiproxyBinary();
if (!bin)
  console.log('wire-faults-sources: skipped — no .tools/toxiproxy-v2.5.0 (scripts/provision.sh builds it with Go)');

/** Probes fast, so a blackhole is declared in about a second rather than the production 16 s. */
const FAST: HttpLivenessOptions = { probeEveryMs: 250, probeTimeoutMs: 500, failuresToAbort: 2 };

const lagged = (p: ToxiproxyProxy) => slowLink(p, { latencyMs: 30, jitterMs: 25, rateKBps: 512 });

/** The call's failure and how long it took; a call that answers is a test failure. */
async function failureOf(call: () => Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const started = Date.now();
  try {
    await call();
  } catch (err) {
    return { err: err as Error, ms: Date.now() - started };
  }
  throw new Error('expected the call to fail');
}
const retryable = (e: Error) => !(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(e.name);

describe.skipIf(!bin)('faults on the wire to Kusto and GitHub (Toxiproxy)', () => {
  let toxi: ToxiproxyHandle;
  let kusto: KustoServerHandle;
  let github: GithubServer;
  let cluster: KustoCluster;
  let gh: GithubClient;
  const ROWS = Array.from({ length: 4000 }, (_, i) => [
    `exam-${i}`,
    `2024-03-01T10:${String(i % 60).padStart(2, '0')}:00Z`,
    i,
  ]);

  beforeAll(async () => {
    toxi = await startToxiproxy(bin!);
    kusto = await startKustoServer({
      requireToken: 'test-token',
      handler: () => ({
        kind: 'table',
        columns: [
          { name: 'exam_id', type: 'string' },
          { name: 'exam_date', type: 'datetime' },
          { name: 'score', type: 'long' },
        ],
        rows: ROWS,
      }),
    });
    github = await startGithubServer({ token: 't' });
    const k = await toxi.proxy('kusto', Number(new URL(kusto.url).port));
    const g = await toxi.proxy('github', Number(new URL(github.url).port));
    const token: AccessToken = { token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
    cluster = new KustoCluster({
      label: 'proxied',
      url: `http://127.0.0.1:${k.port}`,
      auth: { kind: 'credential', credential: { getToken: async () => token } },
      queryTimeoutMs: 300_000,
      liveness: FAST,
    });
    gh = new GithubClient({
      baseUrl: `http://127.0.0.1:${g.port}`,
      token: 't',
      maxRetries: 0,
      backoffScale: 0,
      requestTimeoutMs: 1_000,
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await kusto?.close();
    await github?.close();
    await toxi?.stop();
  });

  const query = () => cluster.query({ name: 'wire', database: 'ace', text: 'exam_results' });
  const repos = () => gh.get<unknown[]>('/orgs/{org}/repos', { org: 'skills' });

  it('Kusto: a thin jittery link delivers every row; a cut answer and a blackhole fail fast, retryable', async () => {
    const clean = await query();
    expect(clean.rows).toHaveLength(4000);
    const p = await toxi.api.get('kusto');
    const unlag = await lagged(p);
    try {
      expect(await query()).toEqual(clean);
    } finally {
      await unlag();
    }
    // The answer cut after 60 kB: a broken frame list, never a shorter table.
    const uncut = await cutAfter(p, 60_000, 'downstream');
    const cut = await failureOf(query);
    await uncut();
    expect(retryable(cut.err), String(cut.err)).toBe(true);
    const reopen = await blackhole(p);
    const hole = await failureOf(query);
    await reopen();
    expect(hole.err.name).toBe('KustoQueryError');
    expect(hole.err.message).toMatch(/did not answer 2 liveness probes/);
    expect(retryable(hole.err)).toBe(true);
    expect(hole.ms).toBeLessThan(10_000); // not the query's 300 s server timeout plus 30 s
    expect(await query()).toEqual(clean);
  });

  it('GitHub: a thin jittery link delivers the same page; a blackhole fails in its timeout as an outage', async () => {
    const clean = await repos();
    expect(clean.status).toBe(200);
    const p = await toxi.api.get('github');
    const unlag = await lagged(p);
    try {
      expect((await repos()) as { data?: unknown }).toMatchObject({ data: (clean as { data: unknown }).data });
    } finally {
      await unlag();
    }
    const reopen = await blackhole(p);
    const hole = await failureOf(repos);
    await reopen();
    expect(outageKind(hole.err), String(hole.err)).toBeDefined();
    expect(hole.ms).toBeLessThan(10_000);
    expect(((await repos()) as { data: unknown }).data).toEqual((clean as { data: unknown }).data);
  });
});

describe.skipIf(!bin || !emulatorAvailable)('faults on the wire to BigQuery (Toxiproxy → bqemulator)', () => {
  let toxi: ToxiproxyHandle;
  let emulator: BigQueryEmulatorHandle;
  let t: BigQueryTarget;
  const N = 20_000;
  const lines = () =>
    (async function* () {
      for (let i = 1; i <= N; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j++) chunk += `{"id":${j},"payload":"row-${j}-${'x'.repeat(40)}"}\n`;
        yield chunk;
      }
    })();
  const schema = [
    { name: 'id', type: 'INT64' },
    { name: 'payload', type: 'STRING' },
  ];
  const summary = async () =>
    (await runQuery<{ n: number; s: number }>(t, `SELECT COUNT(*) AS n, SUM(id) AS s FROM \`${PROJECT}.wire.loaded\``))
      .rows[0];

  beforeAll(async () => {
    toxi = await startToxiproxy(bin!);
    emulator = await startEmulator();
    const { port } = await toxi.proxy('bigquery', Number(new URL(emulator.apiEndpoint).port));
    t = {
      bq: createBigQueryClient({ projectId: PROJECT, apiEndpoint: `http://127.0.0.1:${port}` }),
      projectId: PROJECT,
      datasetId: 'wire',
      liveness: FAST,
    };
    await t.bq.dataset('wire').create();
  });
  afterAll(async () => {
    await emulator?.stop();
    await toxi?.stop();
  });

  it('a thin jittery link loads every row; a cut upload and a blackhole fail fast, nothing half', async () => {
    const p = await toxi.api.get('bigquery');
    const unlag = await lagged(p);
    try {
      expect((await loadNdjson(t, 'loaded', lines(), { schema, writeDisposition: 'WRITE_TRUNCATE' })).outputRows).toBe(
        N,
      );
    } finally {
      await unlag();
    }
    const full = { n: N, s: (N * (N + 1)) / 2 };
    expect(await summary()).toEqual(full);
    // The upload cut after 200 kB of its ~1 MB.
    const uncut = await cutAfter(p, 200_000, 'upstream');
    const cut = await failureOf(() => loadNdjson(t, 'loaded', lines(), { schema, writeDisposition: 'WRITE_TRUNCATE' }));
    await uncut();
    expect(retryable(cut.err), String(cut.err)).toBe(true);
    // Real BigQuery creates no job from an incomplete upload (the table keeps its rows); bqemulator
    // runs one on what arrived, so the table may hold a prefix of the lines (none, some, or all) —
    // never a row out of order: the loads learnsync makes are in key order and a retry reads past, or
    // merges over, such a prefix (bigquery-sync.ts).
    const [prefix] = (
      await runQuery<{ n: number; top: number | null }>(
        t,
        `SELECT COUNT(*) AS n, MAX(id) AS top FROM \`${PROJECT}.wire.loaded\``,
      )
    ).rows;
    expect(Number(prefix!.top ?? 0)).toBe(Number(prefix!.n));
    expect((await loadNdjson(t, 'loaded', lines(), { schema, writeDisposition: 'WRITE_TRUNCATE' })).outputRows).toBe(N);
    expect(await summary()).toEqual(full);
    const reopen = await blackhole(p);
    const hole = await failureOf(() =>
      loadNdjson(t, 'loaded', lines(), { schema, writeDisposition: 'WRITE_TRUNCATE' }),
    );
    const query = await failureOf(() => runQuery(t, 'SELECT 1 AS one'));
    await reopen();
    for (const f of [hole, query]) {
      expect(f.err.message).toMatch(/did not answer 2 liveness probes|still answers nothing/);
      expect(outageKind(f.err), String(f.err)).toBeDefined();
      expect(f.ms).toBeLessThan(10_000); // an upload has no timeout of its own: without the watchdog, forever
    }
    expect(await summary()).toEqual(full);
    // The retry of the same load lands each row once.
    expect((await loadNdjson(t, 'loaded', lines(), { schema, writeDisposition: 'WRITE_TRUNCATE' })).outputRows).toBe(N);
    expect(await summary()).toEqual(full);
  });
});
