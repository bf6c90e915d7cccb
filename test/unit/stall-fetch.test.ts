// A source that stops answering is left after a silence, not after a total timeout: no headers, or
// no body bytes, for the stall time aborts the request as a network timeout; a slow link that keeps
// delivering is never cut, however long the whole download takes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stallGuardedFetch } from '../../src/connectors/stall-fetch.js';

const STALL_MS = 300;
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/silent') return; // never answers
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/goes-quiet') {
      res.write('first bytes\n'); // then nothing, connection open
      return;
    }
    // /slow: a chunk every 100 ms for 1.2 s (4x the stall time in all), then the end
    let n = 0;
    const t = setInterval(() => {
      res.write(`line ${n}\n`);
      if (++n === 12) {
        clearInterval(t);
        res.end();
      }
    }, 100);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const guarded = stallGuardedFetch(STALL_MS);

it('abandons a request whose server never answers, as a network timeout', async () => {
  const t = Date.now();
  const err = await guarded(`${base}/silent`).catch((e: Error) => e);
  expect(Date.now() - t).toBeLessThan(STALL_MS * 5);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error & { code?: string }).name).toBe('TimeoutError');
  expect((err as Error & { code?: string }).code).toBe('ETIMEDOUT');
  expect((err as Error).message).toMatch(/no answer from .* \(waiting for the response\): timed out/);
});

it('abandons a body that goes quiet half way', async () => {
  const res = await guarded(`${base}/goes-quiet`);
  expect(res.status).toBe(200);
  const t = Date.now();
  const err = await res.text().catch((e: Error) => e);
  expect(Date.now() - t).toBeLessThan(STALL_MS * 5);
  expect(String((err as Error).message ?? err)).toMatch(/timed out|aborted/i);
});

it('never cuts a slow link that keeps delivering', async () => {
  const res = await guarded(`${base}/slow`);
  const text = await res.text();
  expect(text.split('\n').filter(Boolean)).toHaveLength(12);
});
