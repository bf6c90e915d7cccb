// `plan` (or a second worker) with SAMPLE_*_PORT exported while `dev` holds those ports: the
// sample server starts on a free port instead of dying on EADDRINUSE, and answers there.
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/stack/ports.js';
import { sampleSchoolApi } from '../../src/stack/sample-servers.js';

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

it('a sample server whose configured port is taken starts on a free one', async () => {
  const port = await freePort();
  const holder = net.createServer().listen(port, '127.0.0.1');
  await once(holder, 'listening');
  closers.push(() => new Promise((r) => holder.close(r)));
  const server = await sampleSchoolApi(loadConfig({ SAMPLE_SCHOOL_API_PORT: String(port) }));
  closers.push(() => server.close());
  expect(new URL(server.url).port).not.toBe(String(port));
  const res = await fetch(server.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: server.clientId,
      client_secret: server.clientSecret,
    }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { access_token?: string }).access_token).toBeTruthy();
});
