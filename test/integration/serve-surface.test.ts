// The HTTP surface of `learnsync serve` without Temporal: tokens, 401/403 bodies, the Host
// allow-list, rate limits, request ids, 404/405 with Allow, and a corpus of hostile requests
// (bad encodings, oversized and NUL-laden e-mails, wrong methods, junk bodies) that must each get a
// 4xx and leave the server answering — never a crash, a stack trace or an internal URL.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { LearnerProfileService } from '../../src/pipelines/learning-roi/learner-profile.js';
import { createLogger } from '../../src/logging.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken, listTokens, revokeToken, verifyToken } from '../../src/server/tokens.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let server: RunningServer;
let admin: string;
let reader: string;
const INTERNAL = 'http://kusto-internal.corp.example:7233/secret-path';

beforeAll(async () => {
  db = await createTestDatabases();
  const config = loadConfig({ SERVE_RATE_LIMIT_PER_MINUTE: '40', SERVE_REFRESH_PER_MINUTE: '1' });
  // Kusto is "down" with an error that names an internal address; the warehouse has no data: live reads fail.
  const profiles = new LearnerProfileService({
    clusters: () => Promise.reject(new Error(`cannot reach ${INTERNAL}`)),
    config,
  });
  server = await startServer(
    {
      config,
      logger: createLogger({ level: 'silent' }),
      warehouse: db.warehouse,
      temporal: () => Promise.reject(new Error(`Temporal at ${INTERNAL} refused`)),
      profiles,
    },
    { host: '127.0.0.1', port: 0 },
  );
  admin = (await createToken(db.warehouse, 'ops', 'admin')).token;
  reader = (await createToken(db.warehouse, 'viewer', 'read')).token;
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

/** A raw request, so that paths and headers reach the server exactly as written (fetch would normalise them). */
function raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const u = new URL(server.url);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method,
          path,
          headers: { host: u.host, ...opts.headers },
          insecureHTTPParser: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      if (opts.body) req.write(opts.body);
      req.end();
    },
  );
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('tokens', () => {
  it('stores only a hash, verifies in constant time by id, and revoked tokens stop working', async () => {
    const { token, info } = await createToken(db.warehouse, 'temp', 'read');
    expect(token).toMatch(/^lst_[a-f0-9]{12}_[\w-]{43}$/);
    const stored = await db.warehouse.query(`SELECT * FROM api_tokens WHERE id = $1`, [info.id]);
    // The secret is everything after the id: base64url may itself hold '_' (even as its first
    // character), so splitting on '_' would test a fragment, or the empty string.
    const secret = /^lst_[a-f0-9]{12}_([\w-]{43})$/.exec(token)![1]!;
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(stored.rows[0])).not.toContain(secret);
    expect((stored.rows[0].secret_sha256 as Buffer).length).toBe(32);
    expect(await verifyToken(db.warehouse, token)).toMatchObject({ id: info.id, role: 'read' });
    expect(await verifyToken(db.warehouse, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect((await raw('GET', '/api/pipelines', { headers: bearer(token) })).status).toBe(200);
    expect(await revokeToken(db.warehouse, 'temp')).toBe(1);
    expect((await raw('GET', '/api/pipelines', { headers: bearer(token) })).status).toBe(401);
    expect((await listTokens(db.warehouse)).find((t) => t.id === info.id)?.revokedAt).toBeTruthy();
  });
});

describe('auth', () => {
  it('401 without or with a bad token, 403 for a read token on personal data, clear JSON, request id', async () => {
    const none = await raw('GET', '/api/pipelines');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    const body = JSON.parse(none.body);
    expect(body.error).toMatchObject({ code: 'unauthorized', requestId: none.headers['x-request-id'] });
    expect(body.error.message).toMatch(/learnsync tokens create/);
    expect((await raw('GET', '/api/pipelines', { headers: bearer('lst_000000000000_' + 'x'.repeat(43)) })).status).toBe(
      401,
    );
    expect((await raw('GET', '/api/pipelines', { headers: { authorization: 'Basic YTpi' } })).status).toBe(401);
    const forbidden = await raw('GET', '/api/learners/a%40b.example/exams', { headers: bearer(reader) });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body).error.message).toMatch(/admin token/);
    expect(
      (
        await raw('POST', '/api/pipelines/nightly/runs', {
          headers: { ...bearer(reader), 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(403);
    expect((await raw('GET', '/healthz')).status).toBe(200);
    expect((await raw('GET', '/openapi.json')).status).toBe(200);
    // Seed 002's admin routes (the app-db family's plugin) sit behind admin tokens too.
    expect((await raw('GET', '/admin/bigquery/tables')).status).toBe(401);
    expect((await raw('GET', '/admin/bigquery/tables', { headers: bearer(reader) })).status).toBe(403);
    const tables = await raw('GET', '/admin/bigquery/tables', { headers: bearer(admin) });
    expect(tables.status).toBe(200);
    expect(tables.body).toMatch(/chat_history|tables/);
  });

  it('keeps a request id given by the caller when it is well-formed', async () => {
    const r = await raw('GET', '/api/pipelines', { headers: { 'x-request-id': 'trace-123' } });
    expect(r.headers['x-request-id']).toBe('trace-123');
    const bad = await raw('GET', '/api/pipelines', { headers: { 'x-request-id': 'a b<script>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers only the allowed Host names (421 otherwise), probes excepted', async () => {
    const evil = await raw('GET', '/api/pipelines', { headers: { host: 'evil.example', ...bearer(admin) } });
    expect(evil.status).toBe(421);
    expect(JSON.parse(evil.body).error.message).toMatch(/SERVE_ALLOWED_HOSTS/);
    expect(
      (
        await raw('GET', '/api/pipelines', {
          headers: { host: `localhost:${new URL(server.url).port}`, ...bearer(admin) },
        })
      ).status,
    ).toBe(200);
    expect((await raw('GET', '/healthz', { headers: { host: '10.1.2.3:8787' } })).status).toBe(200);
  });
});

describe('errors', () => {
  it('a failure deep inside answers 500 with a request id, no stack and no internal URL', async () => {
    const r = await raw('GET', '/api/runs', { headers: bearer(admin) });
    expect(r.status).toBe(500);
    const e = JSON.parse(r.body).error;
    expect(e).toMatchObject({ code: 'internal_error', requestId: r.headers['x-request-id'] });
    expect(r.body).not.toMatch(/kusto-internal|secret-path|at .*\.ts:\d+|\bstack\b/);
  });

  it('a learner read that cannot reach Kusto or a fallback says so without naming where it tried', async () => {
    const r = await raw('GET', '/api/learners/someone%40example.com/exams', { headers: bearer(admin) });
    expect(r.status).toBe(503);
    expect(r.body).not.toMatch(/kusto-internal|secret-path/);
  });

  it('refresh=1 is rate limited per token', async () => {
    const first = await raw('GET', '/api/learners/someone%40example.com/exams?refresh=1', { headers: bearer(admin) });
    expect(first.status).toBe(503);
    const second = await raw('GET', '/api/learners/someone%40example.com/exams?refresh=1', { headers: bearer(admin) });
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('a corpus of hostile requests', () => {
  const H = () => bearer(admin);
  const corpus: Array<{
    name: string;
    method: string;
    path: string;
    expect: number[];
    headers?: () => Record<string, string>;
    body?: string;
  }> = [
    {
      name: 'malformed percent-encoding in the e-mail',
      method: 'GET',
      path: '/api/learners/%E0%A4%A/exams',
      expect: [400],
    },
    { name: 'truncated escape', method: 'GET', path: '/api/learners/%/exams', expect: [400] },
    { name: 'overlong UTF-8', method: 'GET', path: '/api/learners/%C0%AF@x.com/exams', expect: [400] },
    { name: 'NUL byte in the e-mail', method: 'GET', path: '/api/learners/a%00b%40x.com/exams', expect: [400] },
    {
      name: 'a 10 kB e-mail',
      method: 'GET',
      path: `/api/learners/${'a'.repeat(10_000)}%40x.com/exams`,
      expect: [400, 414],
    },
    { name: 'not an e-mail', method: 'GET', path: '/api/learners/not-an-email/exams', expect: [400] },
    { name: 'formula as e-mail', method: 'GET', path: '/api/learners/%3D1%2B1%40x.com/exams', expect: [400, 503] },
    { name: 'unknown query parameter', method: 'GET', path: '/api/runs?limit=5&drop=table', expect: [400] },
    { name: 'limit out of range', method: 'GET', path: '/api/runs?limit=100000', expect: [400] },
    { name: 'limit not a number', method: 'GET', path: '/api/runs?limit=abc', expect: [400] },
    { name: 'status not in the list', method: 'GET', path: '/api/runs?status=%22%20OR%201%3D1', expect: [400] },
    {
      name: 'pipeline with quotes (visibility-query injection)',
      method: 'GET',
      path: '/api/runs?pipeline=x%22%20OR%20WorkflowType%3D%22y',
      expect: [400],
    },
    {
      name: 'workflow id with slashes and dots',
      method: 'GET',
      path: '/api/runs/..%2F..%2Fetc%2Fpasswd',
      expect: [400],
    },
    { name: 'path traversal', method: 'GET', path: '/../../etc/passwd', expect: [404] },
    { name: 'wrong method on a read route', method: 'DELETE', path: '/api/pipelines', expect: [405] },
    { name: 'wrong method on a trigger', method: 'GET', path: '/api/pipelines/nightly/runs', expect: [405] },
    { name: 'wrong method on a learner', method: 'PUT', path: '/api/learners/a%40b.com/exams', expect: [405] },
    { name: 'unknown route', method: 'GET', path: '/api/nothing-here', expect: [404] },
    {
      name: 'invalid JSON body',
      method: 'POST',
      path: '/api/pipelines/nightly/runs',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{"date":',
      expect: [400],
    },
    {
      name: 'extra body property',
      method: 'POST',
      path: '/api/pipelines/nightly/runs',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{"date":"2026-01-01","shell":"rm"}',
      expect: [400],
    },
    {
      name: 'impossible date',
      method: 'POST',
      path: '/api/pipelines/nightly/runs',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{"date":"2026-02-30"}',
      expect: [400],
    },
    {
      name: 'unknown pipeline',
      method: 'POST',
      path: '/api/pipelines/nope/runs',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{}',
      expect: [400],
    },
    {
      name: 'a body over the limit',
      method: 'POST',
      path: '/api/pipelines/nightly/runs',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: JSON.stringify({ date: 'x'.repeat(100_000) }),
      expect: [413],
    },
    {
      name: 'not JSON at all',
      method: 'POST',
      path: '/api/pipelines/nightly/backfills',
      headers: () => ({ ...H(), 'content-type': 'text/plain' }),
      body: 'hello',
      expect: [400, 415],
    },
    {
      name: 'backfill range backwards',
      method: 'POST',
      path: '/api/pipelines/learning-sample/backfills',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{"from":"2026-02-01","to":"2026-01-01"}',
      expect: [400],
    },
    {
      name: 'backfill of an incremental pipeline',
      method: 'POST',
      path: '/api/pipelines/learning-sample-incremental/backfills',
      headers: () => ({ ...H(), 'content-type': 'application/json' }),
      body: '{"from":"2026-01-01","to":"2026-01-02"}',
      expect: [400],
    },
    { name: 'schedule outside learnsync', method: 'POST', path: '/api/schedules/other-team/pause', expect: [404] },
    { name: 'schedule action unknown', method: 'POST', path: '/api/schedules/learnsync-nightly/delete', expect: [404] },
  ];

  it.each(corpus)('$name → $expect, no stack, no crash', async (c) => {
    const r = await raw(c.method, c.path, { headers: c.headers?.() ?? H(), body: c.body });
    expect(c.expect).toContain(r.status);
    if (r.status === 405) expect(String(r.headers.allow)).toMatch(/GET|POST/);
    if (r.body) {
      const e = JSON.parse(r.body).error;
      expect(e.requestId).toBeTruthy();
      expect(r.body).not.toMatch(/node_modules|\.ts:\d+|kusto-internal/);
    }
    expect((await raw('GET', '/healthz')).status).toBe(200);
  });

  it('a 405 names the allowed methods in Allow', async () => {
    const r = await raw('DELETE', '/api/runs/learnsync-nightly-2026-01-01', { headers: bearer(admin) });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });
});

describe('rate limit and OpenAPI', () => {
  it('lists every API route with its role in /openapi.json', async () => {
    const doc = JSON.parse((await raw('GET', '/openapi.json')).body);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/pipelines',
        '/api/runs',
        '/api/runs/{workflowId}',
        '/api/pipelines/{name}/runs',
        '/api/pipelines/{name}/backfills',
        '/api/schedules/{id}/pause',
        '/api/sync-status',
        '/api/learners/{email}/exams',
        '/healthz',
        '/readyz',
      ]),
    );
    expect(doc.paths['/api/learners/{email}/exams'].get['x-learnsync-role']).toBe('admin');
    expect(doc.paths['/api/pipelines'].get['x-learnsync-role']).toBe('read');
  });

  it('limits each token to SERVE_RATE_LIMIT_PER_MINUTE (429, Retry-After), leaving other tokens alone', async () => {
    const { token } = await createToken(db.warehouse, 'busy', 'read');
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await raw('GET', '/api/pipelines', { headers: bearer(token) })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    const limited = await raw('GET', '/api/pipelines', { headers: bearer(token) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await raw('GET', '/api/pipelines', { headers: bearer(reader) })).status).toBe(200);
  });
});
