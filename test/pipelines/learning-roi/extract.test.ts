// Activity tier: the windowed Kusto extract against the sample Kusto server (real client, real
// Postgres): every window once, heartbeats, resume after a crash mid-way without loading any
// window twice, splitting of a truncated window, snapshot replacement, rejects and schema drift.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Info } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KustoClusters } from '../../../src/pipelines/learning-roi/clusters.js';
import { createKustoExtractActivities, type ExtractHeartbeat } from '../../../src/pipelines/learning-roi/extract.js';
import { KUSTO_SOURCES } from '../../../src/pipelines/learning-roi/sources.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { KustoCluster } from '../../../src/connectors/kusto/client.js';
import { KustoQueryError } from '../../../src/connectors/kusto/errors.js';
import { ValidationError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging.js';
import type { NodeActivity, NodeInput, NodeResult } from '../../../src/pipelines/types.js';
import { LearningSample } from '../../../src/pipelines/learning-roi/sample/data.js';
import { createSampleKustoHandler } from '../../../src/pipelines/learning-roi/sample/source.js';
import {
  startKustoServer,
  type KustoHandler,
  type KustoReply,
  type KustoRequest,
  type KustoServerHandle,
} from '../../../src/pipelines/learning-roi/sample/kusto-server.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

const NOW = () => Date.parse('2026-11-23T12:00:00Z');
const DATE = '2024-06-30';
const FROM = Date.parse('2024-01-01T00:00:00Z');
const TO = Date.parse('2024-07-01T00:00:00Z');

let db: TestDatabases;
let outputDir: string;
const sample = new LearningSample(0.05);
const sampleHandler = createSampleKustoHandler(sample);
let fault: ((req: KustoRequest) => KustoReply | undefined) | undefined;
const servers: KustoServerHandle[] = [];

async function serve(opts: { maxRecords?: number; handler?: KustoHandler } = {}): Promise<KustoServerHandle> {
  const s = await startKustoServer({
    handler: opts.handler ?? ((req) => fault?.(req) ?? sampleHandler(req)),
    maxRecords: opts.maxRecords,
    requireToken: 't',
  });
  servers.push(s);
  return s;
}

function activities(server: KustoServerHandle, env: Record<string, string> = {}) {
  const config: Config = loadConfig({
    KUSTO_HISTORY_START: '2024-01-01',
    KUSTO_LOOKBACK_DAYS: '3',
    LEARNSYNC_OUTPUT_DIR: outputDir,
    ...env,
  });
  const c = new KustoCluster({
    label: 'test',
    url: server.url,
    auth: { kind: 'access-token', accessToken: 't' },
    queryTimeoutMs: 60_000,
  });
  const clusters: KustoClusters = { mode: 'sample', analytics: c, exam: c };
  return createKustoExtractActivities(
    {
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir,
      logger: createLogger({ level: 'silent' }),
      config,
      sources: createSourceClients(config),
    },
    { clusters: async () => clusters, now: NOW },
  );
}

const input = (source: string, extra: Partial<NodeInput> = {}): NodeInput => ({
  pipeline: 'learning-roi',
  nodeId: `roi_extract_${source}`,
  targetDate: DATE,
  force: false,
  params: { source },
  ...extra,
});

function envFor(runId: string, extra: Partial<Info> = {}) {
  const env = new MockActivityEnvironment(
    { activityId: '1', workflowExecution: { workflowId: 'wf', runId }, ...extra } as Partial<Info>,
    { logger: new DefaultLogger('ERROR') },
  );
  const beats: ExtractHeartbeat[] = [];
  env.on('heartbeat', (d: ExtractHeartbeat) => beats.push(d));
  // MockActivityEnvironment.run cannot infer the result type of a NodeActivity.
  const run = (fn: NodeActivity, i: NodeInput) => env.run(fn, i) as Promise<NodeResult>;
  return { env: { run }, beats };
}

const count = async (sql: string, params: unknown[] = []) =>
  (await db.warehouse.query<{ n: number }>(sql, params)).rows[0]!.n;

beforeAll(async () => {
  db = await createTestDatabases();
  outputDir = mkdtempSync(path.join(tmpdir(), 'roi-extract-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await db?.close();
});

describe('windowed Kusto extract', () => {
  it('loads every window once, heartbeats its position and matches the source row for row', async () => {
    const server = await serve();
    const { env, beats } = envFor('run-a');
    const r = await env.run(activities(server).extractKustoSource, input('ace_exam_results'));
    const expected = sample.aceRows(FROM, TO).length;
    expect(expected).toBeGreaterThan(500);
    expect(r.rows).toBe(expected);
    expect(await count('SELECT count(*)::int AS n FROM staging.kusto_ace_exam_results')).toBe(expected);
    expect(await count('SELECT count(DISTINCT exam_id)::int AS n FROM staging.kusto_ace_exam_results')).toBe(expected);
    // 2024-01-01 .. 2024-07-01 in 30-day windows on the grid anchored at the history start.
    const windows = await db.warehouse.query(
      `SELECT window_start, window_end, rows_loaded FROM etl_kusto_windows WHERE run_key = 'wf/run-a/1'
        ORDER BY window_start`,
    );
    expect(windows.rows).toHaveLength(7);
    expect(windows.rows.reduce((s, w) => s + w.rows_loaded, 0)).toBe(expected);
    expect(beats.at(-1)).toMatchObject({
      runKey: 'wf/run-a/1',
      source: 'ace_exam_results',
      windowsDone: 7,
      windowsPlanned: 7,
      rows: expected,
    });
    const requests = server.requests.filter((q) => q.queryName === 'ace_exam_results');
    expect(new Set(requests.map((q) => q.parameters.windowStart)).size).toBe(7);
    expect(requests).toHaveLength(7);
    const cursor = await db.warehouse.query(
      `SELECT value FROM etl_cursors WHERE name = 'kusto:ace_exam_results:loaded_through'`,
    );
    expect(cursor.rows[0].value).toBe('2024-07-01T00:00:00.000Z');
  });

  it('a backfill of an old date re-extracts only the windows of that date and its lookback', async () => {
    const server = await serve();
    const before = await count('SELECT count(*)::int AS n FROM staging.kusto_ace_exam_results');
    const r = await envFor('run-bf').env.run(
      activities(server).extractKustoSource,
      input('ace_exam_results', { targetDate: '2024-03-15', force: true }),
    );
    expect(r.detail).toMatchObject({ from: '2024-03-13T00:00:00.000Z', to: '2024-03-16T00:00:00.000Z', windows: 1 });
    expect(r.rows).toBe(sample.aceRows(Date.parse('2024-03-13T00:00:00Z'), Date.parse('2024-03-16T00:00:00Z')).length);
    expect(server.requests.map((q) => [q.parameters.windowStart, q.parameters.windowEnd])).toEqual([
      ['2024-03-13T00:00:00.000Z', '2024-03-16T00:00:00.000Z'],
    ]);
    // replaced, not added
    expect(await count('SELECT count(*)::int AS n FROM staging.kusto_ace_exam_results')).toBe(before);
    const cursor = await db.warehouse.query(
      `SELECT value FROM etl_cursors WHERE name = 'kusto:ace_exam_results:loaded_through'`,
    );
    expect(cursor.rows[0].value).toBe('2024-07-01T00:00:00.000Z'); // a backfill never moves the watermark back
  });

  it('resumes after a crash in the middle of the windows without loading any window twice', async () => {
    const server = await serve();
    let usageRequests = 0;
    fault = (req) =>
      req.queryName === 'product_usage' && ++usageRequests === 5 ? { kind: 'drop-connection' } : undefined;
    const first = envFor('run-b', { attempt: 1 });
    const acts = activities(server);
    await expect(first.env.run(acts.extractKustoSource, input('product_usage'))).rejects.toBeInstanceOf(
      KustoQueryError,
    );
    const last = first.beats.at(-1)!;
    expect(last.windowsDone).toBe(4);
    const committed = await count(`SELECT count(*)::int AS n FROM etl_kusto_windows WHERE run_key = 'wf/run-b/1'`);
    expect(committed).toBe(4);

    // The retry: same workflow run and activity, its last heartbeat handed back by Temporal.
    const before = server.requests.length;
    const second = envFor('run-b', { attempt: 2, heartbeatDetails: last });
    const r = await second.env.run(acts.extractKustoSource, input('product_usage'));
    fault = undefined;
    const retried = server.requests.slice(before).filter((q) => q.queryName === 'product_usage');
    const failedWindow = server.requests.filter((q) => q.queryName === 'product_usage')[4]!.parameters.windowStart;
    expect(retried[0]!.parameters.windowStart).toBe(failedWindow); // resumed at the first window not loaded
    const windows = await db.warehouse.query<{ window_key: string }>(
      `SELECT window_key FROM etl_kusto_windows WHERE run_key = 'wf/run-b/1'`,
    );
    expect(windows.rows.length).toBe(4 + retried.length);
    expect(new Set(windows.rows.map((w) => w.window_key)).size).toBe(windows.rows.length);
    expect(r.detail?.resumedAtWindow).toBe(4);
    const expected = sample.usageRows(FROM, TO).length;
    expect(r.rows).toBe(expected); // counts every window of the run, both attempts
    expect(await count('SELECT count(*)::int AS n FROM staging.kusto_product_usage')).toBe(expected);
    expect(
      await count(
        'SELECT count(*)::int AS n FROM (SELECT DISTINCT day, user_id, product FROM staging.kusto_product_usage) x',
      ),
    ).toBe(expected);
  });

  it('splits a window whose result Kusto truncates, until every part fits', async () => {
    const server = await serve({ maxRecords: 150 });
    const { env } = envFor('run-c');
    const r = await env.run(
      activities(server, { KUSTO_WINDOW_DAYS: '120' }).extractKustoSource,
      input('pearson_exam_results', { targetDate: '2026-06-30' }),
    );
    const expected = sample.pearsonRows(FROM, Date.parse('2026-07-01T00:00:00Z')).length;
    expect(r.rows).toBe(expected);
    expect(await count('SELECT count(*)::int AS n FROM staging.kusto_pearson_exam_results')).toBe(expected);
    const split = await count(
      `SELECT count(*)::int AS n FROM etl_kusto_windows WHERE run_key = 'wf/run-c/1' AND outcome = 'split'`,
    );
    expect(split).toBeGreaterThan(0);
    const biggest = await count(
      `SELECT max(rows_read)::int AS n FROM etl_kusto_windows WHERE run_key = 'wf/run-c/1' AND outcome = 'loaded'`,
    );
    expect(biggest).toBeLessThanOrEqual(150);
  });

  it('reads a snapshot in hash partitions and replaces the previous snapshot when complete', async () => {
    const server = await serve();
    const acts = activities(server);
    await envFor('run-d').env.run(acts.extractKustoSource, input('user_emails'));
    const r = await envFor('run-e').env.run(acts.extractKustoSource, input('user_emails', { force: true }));
    const expected = sample.counts().verifiedEmails;
    expect(r.rows).toBe(expected);
    expect(r.deleted).toBe(expected); // the previous snapshot
    const runs = await db.warehouse.query(
      `SELECT run_key, count(*)::int AS n FROM staging.kusto_user_emails GROUP BY run_key`,
    );
    expect(runs.rows).toEqual([{ run_key: 'wf/run-e/1', n: expected }]);
    const requests = server.requests.filter((q) => q.queryName === 'user_emails');
    expect(requests.map((q) => q.parameters.partition)).toEqual(['0', '1', '2', '3', '0', '1', '2', '3']);
  });

  it('rejects rows it cannot load, with read = loaded + rejected', async () => {
    const columns = KUSTO_SOURCES.ace_exam_results.columns.map((c) => ({ name: c.name, type: c.type }));
    const server = await serve({
      handler: (req) =>
        req.parameters.windowStart === '2024-06-28T00:00:00.000Z'
          ? {
              kind: 'table',
              columns,
              rows: [
                ['x1', 'a@example.com', null, 'GH-200', 'GitHub Actions', '2024-06-28T10:00:00Z', 40, 10, true],
                ['x2', 'b@example.com', null, 'GH-200', 'GitHub Actions', 'not a date', 40, 10, true],
                ['x3', 'c@example.com', null, 'GH-200', 'GitHub Actions', '2024-05-01T10:00:00Z', 40, 10, true],
                ['x4', 'd@example.com', 'many', 'GH-200', 'GitHub Actions', '2024-06-28T11:00:00Z', 40, 10, true],
              ],
            }
          : { kind: 'table', columns, rows: [] },
    });
    const r = await envFor('run-f').env.run(
      activities(server).extractKustoSource,
      input('ace_exam_results', { force: true }),
    );
    expect(r).toMatchObject({ rows: 4, inserted: 1, rejected: 3 });
    const rejects = await db.warehouse.query(
      `SELECT reason, raw->>'exam_id' AS id FROM etl_rejects WHERE job_name = 'roi_extract_ace_exam_results'
        ORDER BY id`,
    );
    expect(rejects.rows).toEqual([
      { reason: 'column exam_date: expected datetime, got "not a date"', id: 'x2' },
      {
        reason: 'exam_date 2024-05-01T10:00:00Z outside window 2024-06-28T00:00:00.000Z/2024-06-29T00:00:00.000Z',
        id: 'x3',
      },
      { reason: 'column dotcomid: expected long, got "many"', id: 'x4' },
    ]);
  });

  it('keeps int64 longs exact and rejects NUL, lone surrogates and out-of-range longs with a reason', async () => {
    const columns = KUSTO_SOURCES.ace_exam_results.columns.map((c) => ({ name: c.name, type: c.type }));
    const at = '2024-06-28T10:00:00Z';
    const row = (id: string, email: string, dotcomid: unknown, name = 'GitHub Actions') => [
      id,
      email,
      dotcomid,
      'GH-200',
      name,
      at,
      40,
      10,
      true,
    ];
    const server = await serve({
      handler: (req) =>
        req.parameters.windowStart === '2024-06-28T00:00:00.000Z'
          ? {
              kind: 'table',
              columns,
              rows: [
                row('L1', 'max@example.com', 9223372036854775807n),
                row('L2', 'min@example.com', -9223372036854775808n),
                row('L3', 'odd@example.com', 9007199254740993n),
                row('L4', 'over@example.com', 9223372036854775808n),
                row('L5', 'nul@example.com', 1, 'Actions\u0000Exam'),
                row('L6', 'lone@example.com', 2, 'Actions \ud800 Exam'),
                row('L7', 'pair@example.com', 3, 'Actions \ud83d\ude80 Exam'),
              ],
            }
          : { kind: 'table', columns, rows: [] },
    });
    const r = await envFor('run-long').env.run(
      activities(server).extractKustoSource,
      input('ace_exam_results', { force: true }),
    );
    expect(r).toMatchObject({ rows: 7, inserted: 4, rejected: 3 });
    const loaded = await db.warehouse.query(
      `SELECT exam_id AS id, dotcomid::text AS dotcomid, exam_name AS name FROM staging.kusto_ace_exam_results
        WHERE exam_id LIKE 'L_' ORDER BY 1`,
    );
    expect(loaded.rows).toEqual([
      { id: 'L1', dotcomid: '9223372036854775807', name: 'GitHub Actions' },
      { id: 'L2', dotcomid: '-9223372036854775808', name: 'GitHub Actions' },
      { id: 'L3', dotcomid: '9007199254740993', name: 'GitHub Actions' },
      { id: 'L7', dotcomid: '3', name: 'Actions \u{1F680} Exam' },
    ]);
    const rejects = await db.warehouse.query(
      `SELECT raw->>'exam_id' AS id, reason, raw->>'exam_name' AS name, raw->>'dotcomid' AS dotcomid
         FROM etl_rejects WHERE job_name = 'roi_extract_ace_exam_results' AND raw->>'exam_id' LIKE 'L_' ORDER BY 1`,
    );
    expect(rejects.rows).toEqual([
      {
        id: 'L4',
        reason: 'column dotcomid: 9223372036854775808 is outside the 64-bit integer range',
        name: 'GitHub Actions',
        dotcomid: '9223372036854775808',
      },
      {
        id: 'L5',
        reason:
          'column exam_name: the string holds a NUL character (U+0000) at position 7, which Postgres text cannot store',
        name: 'Actions\\u0000Exam',
        dotcomid: '1',
      },
      {
        id: 'L6',
        reason: expect.stringMatching(
          /^column exam_name: the string holds a lone UTF-16 surrogate \(U\+D800\) at position 8/,
        ),
        name: 'Actions \\ud800 Exam',
        dotcomid: '2',
      },
    ]);
    // Nothing was silently replaced by U+FFFD.
    expect(
      await count(`SELECT count(*)::int AS n FROM staging.kusto_ace_exam_results WHERE exam_name LIKE '%\u{FFFD}%'`),
    ).toBe(0);
  });

  it('loads real NaN, Infinity and -Infinity as the Postgres float specials', async () => {
    const columns = KUSTO_SOURCES.pearson_exam_results.columns.map((c) => ({ name: c.name, type: c.type }));
    const at = '2024-06-28T10:00:00Z';
    const server = await serve({
      handler: (req) =>
        req.parameters.windowStart === '2024-06-28T00:00:00.000Z'
          ? {
              kind: 'table',
              columns,
              rows: [
                ['p1', 'a@example.com', 'GH-300', 'Copilot', at, NaN, 700, 'fail'],
                ['p2', 'b@example.com', 'GH-300', 'Copilot', at, Infinity, 700, 'pass'],
                ['p3', 'c@example.com', 'GH-300', 'Copilot', at, -Infinity, -Infinity, 'fail'],
                ['p4', 'd@example.com', 'GH-300', 'Copilot', at, 812.5, 700, 'pass'],
              ],
            }
          : { kind: 'table', columns, rows: [] },
    });
    const r = await envFor('run-nan').env.run(
      activities(server).extractKustoSource,
      input('pearson_exam_results', { force: true }),
    );
    expect(r).toMatchObject({ rows: 4, inserted: 4, rejected: 0 });
    const loaded = await db.warehouse.query(
      `SELECT registration_id AS id, score::text AS score, passing_score::text AS passing
         FROM staging.kusto_pearson_exam_results WHERE registration_id LIKE 'p_' ORDER BY 1`,
    );
    expect(loaded.rows).toEqual([
      { id: 'p1', score: 'NaN', passing: '700' },
      { id: 'p2', score: 'Infinity', passing: '700' },
      { id: 'p3', score: '-Infinity', passing: '-Infinity' },
      { id: 'p4', score: '812.5', passing: '700' },
    ]);
  });

  it('rejects a row whose datetime Postgres cannot store, naming the column; loads the rest', async () => {
    const columns = KUSTO_SOURCES.user_emails.columns.map((c) => ({ name: c.name, type: c.type }));
    const server = await serve({
      handler: (req) =>
        req.queryName === 'user_emails' && req.parameters.partition === '0'
          ? {
              kind: 'table',
              columns,
              rows: [
                [1, 'one@example.com', true, true, '2024-03-01T00:00:00Z'],
                [2, 'year0@example.com', true, true, '0000-01-01T00:00:00Z'],
                [3, 'feb30@example.com', true, true, '2024-02-30T00:00:00Z'],
                [4, 'far@example.com', true, true, '+275760-09-13T00:00:00Z'],
                [5, 'max@example.com', true, true, '9999-12-31T23:59:59.9999999Z'],
              ],
            }
          : { kind: 'table', columns, rows: [] },
    });
    const r = await envFor('run-y0').env.run(
      activities(server).extractKustoSource,
      input('user_emails', { force: true }),
    );
    expect(r).toMatchObject({ rows: 5, inserted: 2, rejected: 3 });
    const kept = await db.warehouse.query(
      `SELECT user_id::int AS id FROM staging.kusto_user_emails WHERE run_key = 'wf/run-y0/1' ORDER BY 1`,
    );
    expect(kept.rows).toEqual([{ id: 1 }, { id: 5 }]);
    const rejects = await db.warehouse.query<{ reason: string }>(
      `SELECT reason FROM etl_rejects WHERE job_name = 'roi_extract_user_emails' ORDER BY raw->>'user_id'`,
    );
    expect(rejects.rows.map((x) => x.reason)).toEqual([
      expect.stringMatching(/^column updated_at: datetime "0000-01-01T00:00:00Z" is outside the range/),
      expect.stringMatching(/^column updated_at: datetime "2024-02-30T00:00:00Z" is outside the range/),
      expect.stringMatching(/^column updated_at: datetime "\+275760-09-13T00:00:00Z" is outside the range/),
    ]);
  });

  it('fails the node, non-retryably, when the source schema changed — and says so in sync_status.json', async () => {
    const server = await serve({
      handler: () => ({ kind: 'table', columns: [{ name: 'exam_id', type: 'string' }], rows: [['1']] }),
    });
    const err = await envFor('run-g')
      .env.run(activities(server).extractKustoSource, input('ace_exam_results', { force: true }))
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toContain('without email');
    const status = JSON.parse(readFileSync(path.join(outputDir, 'learning-roi', 'sync_status.json'), 'utf8'));
    expect(status.sources.ace_exam_results.status).toBe('failed');
    expect(status.sources.ace_exam_results.errors[0]).toContain('the source schema changed');
    expect(status.datasets.individual_exams.status).toBe('failed');
  });
});
