// The real azure-kusto-data client against a local server speaking the Kusto REST v2 protocol:
// auth metadata and token acquisition, query parameters and server timeout, v2 frames, and every
// failure the connector classifies (OneApiErrors bodies, HTTP 429, partial failures, truncation,
// dropped connections).
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KustoCluster } from '../../../src/connectors/kusto/client.js';
import { KustoLimitsError, KustoQueryError } from '../../../src/connectors/kusto/errors.js';
import { readPrimaryResult } from '../../../src/connectors/kusto/frames.js';
import { AuthError, NON_RETRYABLE_ERROR_TYPES, ValidationError } from '../../../src/errors.js';
import {
  SAMPLE_SERVICE_RESOURCE,
  startKustoServer,
  type KustoReply,
  type KustoRequest,
  type KustoServerHandle,
} from '../../../src/pipelines/learning-roi/sample/kusto-server.js';
import { freePort } from '../../../src/stack/temporal-dev-server.js';

const COLUMNS = [
  { name: 'exam_id', type: 'string' },
  { name: 'exam_date', type: 'datetime' },
  { name: 'correct_answers', type: 'long' },
  { name: 'passed', type: 'bool' },
];
const ROWS = [
  ['1', '2024-03-01T10:00:00Z', 40, true],
  ['2', '2024-03-02T11:30:00Z', null, false],
];

let reply: (req: KustoRequest) => KustoReply = () => ({ kind: 'table', columns: COLUMNS, rows: ROWS });
let server: KustoServerHandle;

class RecordingCredential implements TokenCredential {
  scopes: string[][] = [];
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    this.scopes.push([scopes].flat());
    return { token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}
const credential = new RecordingCredential();

beforeAll(async () => {
  server = await startKustoServer({ handler: (req) => reply(req), requireToken: 'test-token', maxRecords: 5 });
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  reply = () => ({ kind: 'table', columns: COLUMNS, rows: ROWS });
});

const cluster = (timeoutMs = 300_000) =>
  new KustoCluster({
    label: 'test',
    url: server.url,
    auth: { kind: 'credential', credential },
    queryTimeoutMs: timeoutMs,
  });
const query = (c = cluster()) =>
  c.query({
    name: 'probe',
    database: 'ace',
    text: '// learnsync query=probe\nexam_results | take 10',
    parameters: { windowStart: '2024-03-01T00:00:00.000Z' },
  });

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

const retryable = (e: Error) => !(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(e.name);

describe('Kusto connector over the REST v2 protocol', () => {
  it('authenticates with the scope from the auth metadata and reads a primary result', async () => {
    const before = server.requests.length;
    const table = await query();
    expect(table.columns).toEqual(COLUMNS);
    expect(table.rows).toEqual(ROWS);
    // The credential was asked for the service resource the metadata endpoint announced.
    expect(credential.scopes.at(-1)).toEqual([`${SAMPLE_SERVICE_RESOURCE}/.default`]);
    const req = server.requests[before]!;
    expect(req).toMatchObject({
      database: 'ace',
      queryName: 'probe',
      parameters: { windowStart: '2024-03-01T00:00:00.000Z' },
      authorization: '[present]',
      status: 200,
    });
    // 5-minute server timeout, in Kusto's timespan format.
    expect(req.options.servertimeout).toBe('00:05:00.000');
  });

  it('sends the configured server timeout', async () => {
    const before = server.requests.length;
    await query(cluster(90_000));
    expect(server.requests[before]!.options.servertimeout).toBe('00:01:30.000');
  });

  it('refuses a wrong token with AuthError carrying the Kusto message', async () => {
    const c = new KustoCluster({
      label: 'test',
      url: server.url,
      auth: { kind: 'access-token', accessToken: 'wrong' },
      queryTimeoutMs: 60_000,
    });
    const e = await failure(query(c));
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toContain('Principal is not authorized');
    expect(retryable(e)).toBe(false);
  });

  it('classifies HTTP 429 as a retryable throttling error', async () => {
    reply = () => ({
      kind: 'http-error',
      status: 429,
      retryAfterSeconds: 1,
      error: { code: 'TooManyRequests', message: 'Too many requests', '@permanent': false },
    });
    const e = await failure(query());
    expect(e).toBeInstanceOf(KustoQueryError);
    expect((e as KustoQueryError).kind).toBe('throttled');
    expect(e.message).toContain('429');
    expect(retryable(e)).toBe(true);
  });

  it('classifies a semantic error (HTTP 400) as non-retryable with the Kusto message', async () => {
    reply = () => ({
      kind: 'http-error',
      status: 400,
      error: {
        code: 'General_BadRequest',
        message: 'Request is invalid and cannot be executed.',
        '@message': "Semantic error: SEM0100: Failed to resolve table 'exam_resultz'",
        '@permanent': true,
      },
    });
    const e = await failure(query());
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("Failed to resolve table 'exam_resultz'");
  });

  it('retries a service fault (HTTP 503)', async () => {
    reply = () => ({
      kind: 'http-error',
      status: 503,
      error: { code: 'ServiceUnavailable', message: 'The service is busy', '@permanent': false },
    });
    const e = await failure(query());
    expect(e).toBeInstanceOf(KustoQueryError);
    expect(e.message).toContain('The service is busy');
    expect(retryable(e)).toBe(true);
  });

  it('reads a partial failure in the result stream: transient unless Kusto says permanent', async () => {
    reply = () => ({
      kind: 'partial-failure',
      columns: COLUMNS,
      rows: ROWS,
      error: { code: 'Internal', '@message': 'extent load failed (E_EXTENT_LOAD_FAILED)', '@permanent': false },
    });
    const transient = await failure(query());
    expect(transient).toBeInstanceOf(KustoQueryError);
    expect(transient.message).toContain('E_EXTENT_LOAD_FAILED');
    reply = () => ({
      kind: 'partial-failure',
      columns: COLUMNS,
      rows: [],
      error: { code: 'BadArgument', '@message': 'division by zero in summarize', '@permanent': true },
    });
    const permanent = await failure(query());
    expect(permanent).toBeInstanceOf(ValidationError);
    expect(permanent.message).toContain('division by zero');
  });

  it('reports the service\'s error text, not the "Querycompletedsuccessfully" of the completion row', async () => {
    reply = () => ({
      kind: 'partial-failure',
      columns: COLUMNS,
      rows: ROWS,
      error: { code: 'Internal', '@message': 'extent load failed (E_EXTENT_LOAD_FAILED)', '@permanent': false },
    });
    const err = await failure(query());
    expect(err.message).toContain('extent load failed (E_EXTENT_LOAD_FAILED)');
    expect(err.message).not.toMatch(/Query\s*completed\s*successfully/i);
  });

  it('reads real NaN, Infinity and -Infinity, which Kusto writes as bare (non-JSON) tokens', async () => {
    reply = () => ({
      kind: 'table',
      columns: [
        { name: 'label', type: 'string' },
        { name: 'x', type: 'real' },
      ],
      rows: [
        ['nan', NaN],
        ['inf', Infinity],
        ['-inf', -Infinity],
        ['text NaN Infinity', 1.5],
      ],
    });
    const t = await query();
    expect(t.rows).toEqual([
      ['nan', 'NaN'],
      ['inf', 'Infinity'],
      ['-inf', '-Infinity'],
      ['text NaN Infinity', 1.5],
    ]);
  });

  it('reports a truncated result as a limits error, not as data', async () => {
    reply = () => ({
      kind: 'table',
      columns: COLUMNS,
      rows: Array.from({ length: 8 }, (_, i) => [String(i), '2024-03-01T10:00:00Z', i, true]),
    });
    const e = await failure(query());
    expect(e).toBeInstanceOf(KustoLimitsError);
    expect(e.message).toContain('E_QUERY_RESULT_SET_TOO_LARGE');
    expect(server.requests.at(-1)!.rows).toBe(5); // the server did send the first 5 rows
  });

  it('treats a dropped connection and a closed port as transient', async () => {
    reply = () => ({ kind: 'drop-connection' });
    const dropped = await failure(query());
    expect(dropped).toBeInstanceOf(KustoQueryError);
    expect(retryable(dropped)).toBe(true);
    const port = await freePort();
    const closed = new KustoCluster({
      label: 'down',
      url: `http://127.0.0.1:${port}`,
      auth: { kind: 'access-token', accessToken: 'x' },
      queryTimeoutMs: 60_000,
    });
    const e = await failure(query(closed));
    expect(e).toBeInstanceOf(KustoQueryError);
    expect(e.message).toMatch(/ECONNREFUSED|unreachable|cloud info/);
  });
});

describe('v2 frame reading', () => {
  const header = { FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' };
  const primary = {
    FrameType: 'DataTable',
    TableId: 1,
    TableKind: 'PrimaryResult',
    TableName: 'PrimaryResult',
    Columns: [{ ColumnName: 'n', ColumnType: 'long' }],
    Rows: [[1], [2]],
  };

  it('finds errors reported only in DataSetCompletion (deferred partial failures)', () => {
    const frames = [
      header,
      primary,
      {
        FrameType: 'DataSetCompletion',
        HasErrors: true,
        Cancelled: false,
        OneApiErrors: [
          {
            error: {
              code: 'LimitsExceeded',
              '@message': 'Query execution has exceeded the allowed limits (80DA0003)',
              '@permanent': false,
            },
          },
        ],
      },
    ];
    expect(() => readPrimaryResult(frames, 'q')).toThrow(KustoLimitsError);
  });

  it('finds error-level rows of QueryCompletionInformation', () => {
    const info = {
      FrameType: 'DataTable',
      TableKind: 'QueryCompletionInformation',
      Columns: ['Timestamp', 'Level', 'StatusCodeName', 'Payload'].map((ColumnName) => ({
        ColumnName,
        ColumnType: 'string',
      })),
      Rows: [
        ['2024-01-01T00:00:00Z', 2, 'Error', '{"Count":1,"Text":"Cross-cluster query failed: cluster unreachable"}'],
      ],
    };
    expect(() =>
      readPrimaryResult(
        [header, primary, info, { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false }],
        'q',
      ),
    ).toThrow(/Cross-cluster query failed/);
  });

  it('refuses a response cut before DataSetCompletion, and a cancelled one', () => {
    expect(() => readPrimaryResult([header, primary], 'q')).toThrow(/ended before its DataSetCompletion/);
    expect(() =>
      readPrimaryResult([header, primary, { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: true }], 'q'),
    ).toThrow(/cancelled/);
  });

  it('returns rows and typed columns of a clean response', () => {
    const t = readPrimaryResult(
      [header, primary, { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false }],
      'q',
    );
    expect(t).toEqual({ columns: [{ name: 'n', type: 'long' }], rows: [[1], [2]] });
  });
});
