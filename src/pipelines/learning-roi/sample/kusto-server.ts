// A small HTTP server that speaks the parts of the Kusto REST protocol azure-kusto-data uses:
// GET /v1/rest/auth/metadata, POST /v2/rest/query with v2 frames (DataSetHeader, DataTable,
// DataSetCompletion), OneApiErrors bodies for failed requests, HTTP 429, and Kusto's result-set
// truncation as a partial query failure. What a query returns is up to its handler: the built-in
// sample source (kusto-sample-source.ts) in sample mode, or a test's own handler.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KustoColumn } from '../../../connectors/kusto/frames.js';
import type { OneApiError } from '../../../connectors/kusto/errors.js';

export interface KustoRequest {
  database: string;
  csl: string;
  /** From the query's first line, `// learnsync query=<name>`; '' for other queries. */
  queryName: string;
  parameters: Record<string, string>;
  options: Record<string, unknown>;
  authorization?: string;
}

export type KustoReply =
  | { kind: 'table'; columns: KustoColumn[]; rows: unknown[][] }
  /** A failed request: the OneApiErrors body Kusto sends with a 4xx/5xx status. */
  | { kind: 'http-error'; status: number; error: OneApiError; retryAfterSeconds?: number }
  /** "200 OK", some rows, then a failure reported in the result stream. */
  | { kind: 'partial-failure'; columns: KustoColumn[]; rows: unknown[][]; error: OneApiError }
  /** The connection dies before any answer (a network fault). */
  | { kind: 'drop-connection' };

export type KustoHandler = (req: KustoRequest) => KustoReply | Promise<KustoReply>;

export interface KustoServerOptions {
  handler: KustoHandler;
  /** Kusto's default truncationmaxrecords is 500,000: more rows and the result is cut with an error. */
  maxRecords?: number;
  /** When set, queries must carry `Authorization: Bearer <token>`. */
  requireToken?: string;
  port?: number;
}

export interface KustoServerHandle {
  url: string;
  /** Every query received, oldest first (bounded). */
  requests: Array<KustoRequest & { status: number; rows: number }>;
  close(): Promise<void>;
}

export const SAMPLE_SERVICE_RESOURCE = 'https://kusto.kusto.windows.net';
const REQUEST_LOG_LIMIT = 20_000;

const CLOUD_INFO = {
  AzureAD: {
    LoginEndpoint: 'https://login.microsoftonline.com',
    LoginMfaRequired: false,
    KustoClientAppId: 'db662dc1-0cfe-4e1c-a843-19a68e65be58',
    KustoClientRedirectUri: 'https://microsoft/kustoclient',
    KustoServiceResourceId: SAMPLE_SERVICE_RESOURCE,
    FirstPartyAuthorityUrl: 'https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a',
  },
  dSTS: null,
};

const COMPLETION_COLUMNS = [
  ['Timestamp', 'datetime'],
  ['ClientRequestId', 'string'],
  ['ActivityId', 'guid'],
  ['SubActivityId', 'guid'],
  ['ParentActivityId', 'guid'],
  ['Level', 'int'],
  ['LevelName', 'string'],
  ['StatusCode', 'int'],
  ['StatusCodeName', 'string'],
  ['EventType', 'int'],
  ['EventTypeName', 'string'],
  ['Payload', 'string'],
].map(([ColumnName, ColumnType]) => ({ ColumnName, ColumnType }));

export function truncationError(limit: number): OneApiError {
  return {
    code: 'LimitsExceeded',
    message: 'Request is invalid and cannot be executed.',
    '@type': 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException',
    '@message':
      `Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit ` +
      `of ${limit} records, ` +
      'so not all records were returned (E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003). See ' +
      'https://aka.ms/kustoquerylimits for more information and possible solutions..',
    '@permanent': false,
  };
}

function queryNameOf(csl: string): string {
  return /^\s*\/\/\s*learnsync query=([\w-]+)/.exec(csl)?.[1] ?? '';
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function write(res: http.ServerResponse, chunk: string): Promise<void> {
  if (!res.write(chunk)) await once(res, 'drain');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * A row as Kusto writes it: real NaN and ±Infinity as the bare tokens NaN, Infinity, -Infinity (not
 * JSON), and a long given as a BigInt as its exact digits (Kusto writes int64 in full).
 */
function rowJson(row: unknown[]): string {
  if (!row.some((v) => typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))))
    return JSON.stringify(row);
  const cell = (v: unknown) =>
    typeof v === 'bigint'
      ? v.toString()
      : typeof v === 'number' && !Number.isFinite(v)
        ? Number.isNaN(v)
          ? 'NaN'
          : v > 0
            ? 'Infinity'
            : '-Infinity'
        : (JSON.stringify(v) ?? 'null');
  return `[${row.map(cell).join(',')}]`;
}

/** Streams the v2 frames of one answer; rows go out in chunks so a large window never sits in one string. */
async function sendFrames(
  res: http.ServerResponse,
  columns: KustoColumn[],
  rows: unknown[][],
  failure: OneApiError | undefined,
  inlineFailure: boolean,
  requestId: string,
): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'x-ms-client-request-id': requestId,
    'x-ms-activity-id': randomUUID(),
  });
  await write(res, `[${JSON.stringify({ FrameType: 'DataSetHeader', IsProgressive: false, Version: 'v2.0' })}`);
  await write(
    res,
    `,${JSON.stringify({
      FrameType: 'DataTable',
      TableId: 0,
      TableKind: 'QueryProperties',
      TableName: '@ExtendedProperties',
      Columns: [
        { ColumnName: 'TableId', ColumnType: 'int' },
        { ColumnName: 'Key', ColumnType: 'string' },
        { ColumnName: 'Value', ColumnType: 'dynamic' },
      ],
      Rows: [[1, 'Visualization', '{"Visualization":null}']],
    })}`,
  );
  const header = JSON.stringify({
    FrameType: 'DataTable',
    TableId: 1,
    TableKind: 'PrimaryResult',
    TableName: 'PrimaryResult',
    Columns: columns.map((c) => ({ ColumnName: c.name, ColumnType: c.type })),
    Rows: [],
  });
  await write(res, `,${header.slice(0, -2)}`); // reopen "Rows":[ … ]
  const CHUNK = 2000;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows
      .slice(i, i + CHUNK)
      .map(rowJson)
      .join(',');
    await write(res, (i === 0 ? '' : ',') + part);
  }
  if (failure && inlineFailure)
    await write(res, `${rows.length ? ',' : ''}${JSON.stringify({ OneApiErrors: [{ error: failure }] })}`);
  await write(res, ']}');
  const now = new Date().toISOString();
  const info = failure
    ? [
        now,
        requestId,
        randomUUID(),
        randomUUID(),
        randomUUID(),
        2,
        'Error',
        -2133196797,
        'LimitsExceeded',
        4,
        'QueryInfo',
        // As recorded from the service: an error-level row whose payload still says it succeeded.
        JSON.stringify({ Count: 1, Text: 'Querycompletedsuccessfully' }),
      ]
    : [
        now,
        requestId,
        randomUUID(),
        randomUUID(),
        randomUUID(),
        4,
        'Info',
        0,
        'S_OK (0)',
        4,
        'QueryInfo',
        JSON.stringify({ Count: 1, Text: 'Query completed successfully' }),
      ];
  await write(
    res,
    `,${JSON.stringify({
      FrameType: 'DataTable',
      TableId: 2,
      TableKind: 'QueryCompletionInformation',
      TableName: 'QueryCompletionInformation',
      Columns: COMPLETION_COLUMNS,
      Rows: [info],
    })}`,
  );
  const completion = failure
    ? { FrameType: 'DataSetCompletion', HasErrors: true, Cancelled: false, OneApiErrors: [{ error: failure }] }
    : { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false };
  res.end(`,${JSON.stringify(completion)}]`);
}

export async function startKustoServer(opts: KustoServerOptions): Promise<KustoServerHandle> {
  const maxRecords = opts.maxRecords ?? 500_000;
  const requests: KustoServerHandle['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/v1/rest/auth/metadata') return sendJson(res, 200, CLOUD_INFO);
      if (req.method !== 'POST' || url.pathname !== '/v2/rest/query') {
        return sendJson(res, 404, {
          error: { code: 'NotFound', message: `${req.method} ${url.pathname} is not served here`, '@permanent': true },
        });
      }
      const requestId = String(req.headers['x-ms-client-request-id'] ?? randomUUID());
      const body = JSON.parse(await readBody(req)) as {
        db?: string;
        csl?: string;
        properties?: string | { Options?: Record<string, unknown>; Parameters?: Record<string, string> };
      };
      const props = typeof body.properties === 'string' ? JSON.parse(body.properties) : (body.properties ?? {});
      const request: KustoRequest = {
        database: body.db ?? '',
        csl: body.csl ?? '',
        queryName: queryNameOf(body.csl ?? ''),
        parameters: props.Parameters ?? {},
        options: props.Options ?? {},
        authorization: req.headers.authorization,
      };
      const log = (status: number, rows: number) => {
        // The log keeps the query's head only: enough to tell queries apart, bounded in memory.
        requests.push({
          ...request,
          csl: request.csl.slice(0, 200),
          authorization: request.authorization ? '[present]' : undefined,
          status,
          rows,
        });
        if (requests.length > REQUEST_LOG_LIMIT) requests.splice(0, requests.length - REQUEST_LOG_LIMIT);
      };
      if (opts.requireToken && request.authorization !== `Bearer ${opts.requireToken}`) {
        log(401, 0);
        return sendJson(res, 401, {
          error: {
            code: 'Unauthorized',
            message: 'The caller is not authenticated.',
            '@type': 'Kusto.DataNode.Exceptions.UnauthorizedDatabaseAccessException',
            '@message': 'Principal is not authorized: missing or invalid bearer token',
            '@permanent': true,
          },
        });
      }
      const reply = await opts.handler(request);
      switch (reply.kind) {
        case 'drop-connection':
          log(0, 0);
          req.socket.destroy();
          return;
        case 'http-error':
          log(reply.status, 0);
          return sendJson(
            res,
            reply.status,
            { error: reply.error },
            reply.retryAfterSeconds ? { 'Retry-After': String(reply.retryAfterSeconds) } : {},
          );
        case 'partial-failure':
          log(200, reply.rows.length);
          return sendFrames(
            res,
            reply.columns,
            reply.rows,
            reply.error,
            request.options.deferpartialqueryfailures !== true,
            requestId,
          );
        case 'table': {
          const truncated = reply.rows.length > maxRecords;
          const rows = truncated ? reply.rows.slice(0, maxRecords) : reply.rows;
          log(200, rows.length);
          return sendFrames(
            res,
            reply.columns,
            rows,
            truncated ? truncationError(maxRecords) : undefined,
            request.options.deferpartialqueryfailures !== true,
            requestId,
          );
        }
      }
    })().catch((err: Error) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { code: 'InternalServiceError', message: err.message, '@permanent': false } });
      else res.destroy(err);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  // Never keeps a CLI process alive on its own.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
