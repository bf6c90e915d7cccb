// The error-classification table (README "Error classification", src/connectors/http-errors.ts)
// driven row by row through every connector: GitHub (Octokit with its retry and throttling
// plugins), GitHub report downloads, Kusto queries and the Kusto client's cloud-info lookup (the
// real azure-kusto-data client), the school API client — each against a tiny local HTTP server
// answering that row — and Postgres against the test cluster.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GithubClient } from '../../src/connectors/github/client.js';
import { readCopilotReport } from '../../src/connectors/github/reports.js';
import { RetryableError } from '../../src/connectors/http-errors.js';
import { KustoCluster } from '../../src/connectors/kusto/client.js';
import { classifyPgError, createPool } from '../../src/connectors/postgres.js';
import { SchoolApiClient } from '../../src/connectors/school-api/client.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}
type Row = 'http 401' | 'http 403 rate limited' | 'http 403' | 'http 404' | 'http 503' | 'network';

const ANSWERS: Record<Exclude<Row, 'network'>, Answer> = {
  'http 401': { status: 401, body: { message: 'Bad credentials' } },
  'http 403 rate limited': {
    status: 403,
    headers: { 'retry-after': '7', 'x-ratelimit-remaining': '0' },
    body: { message: 'You have exceeded a rate limit' },
  },
  'http 403': { status: 403, body: { message: 'Resource not accessible' } },
  'http 404': { status: 404, body: { message: 'Not Found' } },
  'http 503': { status: 503, body: { message: 'Service Unavailable' } },
};

const CLOUD_INFO = {
  AzureAD: {
    LoginEndpoint: 'https://login.microsoftonline.com',
    LoginMfaRequired: false,
    KustoClientAppId: 'db662dc1-0cfe-4e1c-a843-19a68e65be58',
    KustoClientRedirectUri: 'https://microsoft/kustoclient',
    KustoServiceResourceId: 'https://kusto.kusto.windows.net',
    FirstPartyAuthorityUrl: 'https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a',
  },
  dSTS: null,
};

/** A server answering `row` on paths matching `failing`, and `ok(path)` elsewhere. */
async function tinyServer(
  failing: RegExp,
  answer: Answer,
  ok: (path: string, base: string) => Answer = () => ({ status: 404 }),
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const a = failing.test(path) ? answer : ok(path, url);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Each connector: make one request against `base` whose failing route answers the row. */
interface Connector {
  name: string;
  failing: RegExp;
  ok?: (path: string, base: string) => Answer;
  call: (base: string, closedPort: number) => Promise<unknown>;
  /** Words a 403 / 404 message must contain (the endpoint, the scope, the setting). */
  permissionWords: string[];
  configWords: string[];
  skip?: Row[];
}

const CONNECTORS: Connector[] = [
  {
    name: 'GitHub',
    failing: /^\/orgs\/skills\/repos$/,
    call: (base) =>
      new GithubClient({ baseUrl: base, token: 't', maxRetries: 0, backoffScale: 0 }).get('/orgs/{org}/repos', {
        org: 'skills',
      }),
    permissionWords: ['/orgs/{org}/repos', 'public_repo'],
    configWords: ['/orgs/{org}/repos', 'GITHUB_SKILLS_ORG'],
  },
  {
    name: 'GitHub Copilot reports API',
    failing: /reports\/organization-1-day$/,
    call: (base) =>
      readCopilotReport(
        new GithubClient({ baseUrl: base, token: 't', maxRetries: 0, backoffScale: 0 }),
        { kind: 'org', org: 'acme' },
        'organization-1-day',
        { day: '2026-01-01', onLine: async () => {} },
      ),
    permissionWords: ['organization-1-day', 'read:org'],
    configWords: ['organization-1-day', 'GITHUB_ORG'],
  },
  {
    name: 'GitHub report download (signed link)',
    failing: /^\/file$/,
    ok: (path, base) =>
      path.endsWith('organization-1-day')
        ? { status: 200, body: { download_links: [`${base}/file`], report_day: '2026-01-01' } }
        : { status: 404 },
    call: (base) =>
      readCopilotReport(
        new GithubClient({ baseUrl: base, token: 't', maxRetries: 0, backoffScale: 0 }),
        { kind: 'org', org: 'acme' },
        'organization-1-day',
        { day: '2026-01-01', onLine: async () => {}, maxLinkRefreshes: 1 },
      ),
    permissionWords: ['organization-1-day', 'file 1'],
    configWords: ['organization-1-day', 'file 1'],
    // no answer from the download host is covered by the network row of the API itself
    skip: ['network'],
  },
  {
    name: 'Kusto query',
    failing: /^\/v2\/rest\/query$/,
    ok: (path) => (path === '/v1/rest/auth/metadata' ? { status: 200, body: CLOUD_INFO } : { status: 404 }),
    call: (base) =>
      new KustoCluster({
        label: 'table',
        url: base,
        auth: { kind: 'token-provider', token: async () => 'tok' },
        queryTimeoutMs: 10_000,
      }).query({ name: 'probe', database: 'ace', text: 'print 1' }),
    permissionWords: ['probe', 'Viewer role'],
    configWords: ['probe', 'KUSTO_ANALYTICS_CLUSTER_URL'],
  },
  {
    name: 'Kusto cloud-info lookup',
    failing: /^\/v1\/rest\/auth\/metadata$/,
    call: (base) =>
      new KustoCluster({
        label: 'table',
        url: base,
        auth: { kind: 'token-provider', token: async () => 'tok' },
        queryTimeoutMs: 10_000,
      }).query({ name: 'probe', database: 'ace', text: 'print 1' }),
    permissionWords: ['cloud-info', 'Viewer role'],
    configWords: [],
    // The client itself treats a 404 there as "no metadata endpoint: public cloud" (not an error).
    skip: ['http 404'],
  },
  {
    name: 'school API',
    failing: /^\/v2\/users$/,
    ok: (path) =>
      path === '/oauth/token' ? { status: 200, body: { access_token: 'a', expires_in: 7200 } } : { status: 404 },
    call: (base, closedPort) =>
      new SchoolApiClient({
        baseUrl: closedPort ? `http://127.0.0.1:${closedPort}` : base,
        tokenUrl: `${base}/oauth/token`,
        clientId: 'id',
        clientSecret: 'secret',
        sleepBetweenCallsMs: 0,
        maxRetries: 0,
        backoffScale: 0,
      }).getPage({ path: '/v2/users', endpoint: '/v2/users', query: {}, page: 1, size: 10 }),
    permissionWords: ['/v2/users', 'scope'],
    configWords: ['/v2/users', 'SCHOOL_API_URL'],
  },
];

const retryable = (e: Error) => !(NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(e.name);

async function failureOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe.each(CONNECTORS)('error table through $name', (c) => {
  const rows = (Object.keys(ANSWERS) as Row[]).filter((r) => !c.skip?.includes(r));

  it.each(rows)('%s', async (row) => {
    const answer = ANSWERS[row as Exclude<Row, 'network'>];
    const server = await tinyServer(c.failing, answer, c.ok);
    try {
      const err = await failureOf(c.call(server.url, 0));
      switch (row) {
        case 'http 401':
          expect(err.name).toBe('AuthError');
          break;
        case 'http 403 rate limited':
          expect(retryable(err)).toBe(true);
          expect(err).toBeInstanceOf(RetryableError);
          expect((err as RetryableError).retryAfterMs).toBe(7000);
          break;
        case 'http 403':
          expect(err.name).toBe('PermissionError');
          for (const w of c.permissionWords) expect(err.message).toContain(w);
          break;
        case 'http 404':
          expect(err.name).toBe('ConfigError');
          for (const w of c.configWords) expect(err.message).toContain(w);
          break;
        case 'http 503':
          expect(retryable(err)).toBe(true);
          break;
      }
    } finally {
      await server.close();
    }
  });

  if (!c.skip?.includes('network'))
    it('network: no answer at all', async () => {
      const closed = await freePort();
      // Everything at a closed port (the school API: only the API, its token endpoint answers).
      const server = await tinyServer(/^$/, { status: 200 }, c.ok);
      try {
        const base = c.name === 'school API' ? server.url : `http://127.0.0.1:${closed}`;
        const err = await failureOf(c.call(base, c.name === 'school API' ? closed : 0));
        expect(retryable(err)).toBe(true);
      } finally {
        await server.close();
      }
    });
});

describe('error table through Postgres', () => {
  let db: TestDatabases;
  beforeAll(async () => {
    db = await createTestDatabases({ migrate: false });
  });
  afterAll(async () => {
    await db?.close();
  });

  const pgFailure = async (sql: string, context?: string) => {
    const err = await failureOf(db.warehouse.query(sql));
    return classifyPgError(err, context) as Error;
  };

  it('a wrong password is an AuthError', async () => {
    const conn = (db.warehouse as unknown as { options: { connectionString: string } }).options.connectionString;
    const bad = new URL(conn);
    bad.password = 'definitely-wrong';
    bad.username = 'learnsync_nobody';
    const pool = createPool(bad.toString(), { max: 1 });
    try {
      const err = classifyPgError(await failureOf(pool.query('SELECT 1'))) as Error;
      // 28P01 / 28000: the credentials; never retried
      expect(err.name).toBe('AuthError');
    } finally {
      await pool.end();
    }
  });

  it('54000 (index row too large) is a ValidationError naming the window and the table', async () => {
    await db.warehouse.query('CREATE TABLE IF NOT EXISTS t54 (k text PRIMARY KEY)');
    const err = await pgFailure(
      `INSERT INTO t54 SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g`,
      'window 2026-01-01..2026-01-08',
    );
    expect(err.name).toBe('ValidationError');
    expect(err.message).toMatch(/SQLSTATE 54000/);
    expect(err.message).toContain('window 2026-01-01..2026-01-08');
  });

  it('a data exception (22…) in COPY is a ValidationError naming the line', async () => {
    await db.warehouse.query('CREATE TABLE IF NOT EXISTS t22 (n smallint)');
    const err = await pgFailure(`INSERT INTO t22 VALUES (1), (99999)`, 'row 2');
    expect(err.name).toBe('ValidationError');
    expect(err.message).toMatch(/SQLSTATE 22003/);
    expect(err.message).toContain('row 2');
  });

  it('SQL that does not match the schema is a ConfigError; a lost connection stays retryable', async () => {
    expect((await pgFailure('SELECT * FROM no_such_table')).name).toBe('ConfigError');
    const port = await freePort();
    const pool = createPool(`postgres://u:p@127.0.0.1:${port}/x`, { max: 1 });
    try {
      const err = classifyPgError(await failureOf(pool.query('SELECT 1'))) as Error;
      expect(retryable(err)).toBe(true);
    } finally {
      await pool.end();
    }
  });
});
