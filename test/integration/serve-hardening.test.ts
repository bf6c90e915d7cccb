// Smaller holes in `learnsync serve`, each reproduced on a real server and real Postgres: a request
// with two Host headers is refused (400) instead of answered for the first; a 503 "busy" answer does
// not spend the token's rate budget; and the admin token `dev` / `demo` print dies with the
// session (revoked when it closes the server) and after DEV_TOKEN_TTL_MS in any case.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServe, DEV_TOKEN_TTL_MS } from '../../src/cli/local-serve.js';
import type { CliContext } from '../../src/cli/types.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import type { LearnerProfileService } from '../../src/pipelines/learning-roi/learner-profile.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken, listTokens } from '../../src/server/tokens.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let server: RunningServer;
// Live reads that hang until released: the first fills SERVE_MAX_LIVE_QUERIES=1.
const pending: Array<() => void> = [];
const RATE = 5;

beforeAll(async () => {
  db = await createTestDatabases();
  const config = loadConfig({ SERVE_RATE_LIMIT_PER_MINUTE: String(RATE), SERVE_MAX_LIVE_QUERIES: '1' });
  const profiles = {
    profile: () =>
      new Promise((resolve) =>
        pending.push(() =>
          resolve({ email: 'a@b.example', source: 'warehouse', exams: [], summary: {}, dotcomId: null }),
        ),
      ),
  } as unknown as LearnerProfileService;
  server = await startServer(
    {
      config,
      logger: createLogger({ level: 'silent' }),
      warehouse: db.warehouse,
      temporal: () => Promise.reject(new Error('no Temporal in this test')),
      profiles,
      plugins: [],
    },
    { host: '127.0.0.1', port: 0 },
  );
});
afterAll(async () => {
  for (const release of pending) release();
  await server?.close();
  await db?.close();
});

/** Bytes on the wire exactly as written (http.request would merge or refuse the duplicate). */
function rawHttp(url: string, text: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.end(text));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (out += c));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

const get = (base: string, path: string, token?: string) =>
  fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('Host header', () => {
  it('two Host headers: 400 in the common error shape, for open and authenticated paths alike', async () => {
    const host = new URL(server.url).host;
    for (const path of ['/healthz', '/api/pipelines']) {
      for (const hosts of [
        [host, 'evil.example'],
        ['evil.example', host],
        [host, host],
      ]) {
        const answer = await rawHttp(
          server.url,
          `GET ${path} HTTP/1.1\r\nHost: ${hosts[0]}\r\nHost: ${hosts[1]}\r\nConnection: close\r\n\r\n`,
        );
        expect(answer, `${path} ${hosts.join(' + ')}`).toMatch(/^HTTP\/1\.1 400 /);
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
          error: { code: string; message: string; requestId: string };
        };
        expect(body.error).toMatchObject({ code: 'bad_request', requestId: expect.any(String) });
        expect(body.error.message).toMatch(/more than one Host header/);
      }
    }
    // One Host header still works.
    const one = await rawHttp(server.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(one).toMatch(/^HTTP\/1\.1 (200|503) /);
  });
});

describe('503 busy', () => {
  it('does not spend the token’s rate budget', async () => {
    const { token } = await createToken(db.warehouse, 'busy-refund', 'admin');
    const first = get(server.url, '/api/learners/a%40b.example/exams', token); // holds the one live slot
    await expect.poll(() => pending.length).toBe(1);
    // Four times the budget in busy answers…
    for (let i = 0; i < RATE * 4; i++) {
      const r = await get(server.url, '/api/learners/a%40b.example/exams', token);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('busy');
    }
    pending.shift()!();
    expect((await first).status).toBe(200);
    // …and the budget is still there: RATE - 1 more requests pass (the first one counted), then 429.
    const statuses: number[] = [];
    for (let i = 0; i < RATE; i++) statuses.push((await get(server.url, '/api/pipelines', token)).status);
    expect(statuses).toEqual([...Array(RATE - 1).fill(200), 429]);
  });
});

describe('dev/demo admin token', () => {
  it('works while the session runs, is revoked when it ends, and expires after its TTL anyway', async () => {
    const config = loadConfig({ SERVE_PORT: '0', SERVE_HOST: '127.0.0.1' });
    const printed: string[] = [];
    const ctx = {
      config,
      logger: createLogger({ level: 'silent' }),
      warehouse: async () => db.warehouse,
      temporal: () => Promise.reject(new Error('no Temporal in this test')),
      sources: createSourceClients(config),
      print: (l = '') => printed.push(l),
    } as unknown as CliContext;
    const local = await startLocalServe(ctx, { uiUrl: undefined }, 'dev');
    expect(local).toBeDefined();
    const token = /Admin token:\s+(\S+)/.exec(printed.join('\n'))![1]!;
    expect((await get(local!.url, '/api/pipelines', token)).status).toBe(200);
    const info = (await listTokens(db.warehouse)).find((t) => token.startsWith(`lst_${t.id}_`))!;
    expect(Date.parse(info.expiresAt!) - Date.parse(info.createdAt)).toBe(DEV_TOKEN_TTL_MS);

    await local!.close();
    expect((await listTokens(db.warehouse)).find((t) => t.id === info.id)!.revokedAt).toBeTruthy();
    expect((await get(server.url, '/api/pipelines', token)).status).toBe(401);

    // A session that never closed (SIGKILL): the TTL alone ends the token.
    const { token: orphan, info: orphanInfo } = await createToken(db.warehouse, 'dev-orphan', 'admin', {
      ttlMs: DEV_TOKEN_TTL_MS,
    });
    expect((await get(server.url, '/api/pipelines', orphan)).status).toBe(200);
    await db.warehouse.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      orphanInfo.id,
    ]);
    expect((await get(server.url, '/api/pipelines', orphan)).status).toBe(401);
    // Tokens created by hand keep no expiry.
    expect((await createToken(db.warehouse, 'ops-forever', 'read')).info.expiresAt).toBeNull();
  });
});
