// `learnsync dev` / `demo` with TEMPORAL_ADDRESS set to a server that does not answer: one line on
// stderr naming TEMPORAL_ADDRESS, a non-zero exit, no stack trace — and nothing left running.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/client.js';
import { freePort } from '../../src/stack/ports.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
const saved = { ...process.env };

beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  process.env = saved;
  await db?.close();
});

describe.each(['dev', 'demo'])('learnsync %s with an unreachable TEMPORAL_ADDRESS', (command) => {
  it('prints one line naming TEMPORAL_ADDRESS and exits non-zero', async () => {
    const address = `127.0.0.1:${await freePort()}`; // nothing listens there
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: address,
      WAREHOUSE_DATABASE_URL: db.warehouseUrl,
      OLTP_DATABASE_URL: db.oltpUrl,
      LOG_LEVEL: 'error',
    });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const out: string[] = [];
    let code: number;
    let lines: string[];
    try {
      code = await main([command, ...(command === 'dev' ? ['--no-seed'] : [])], (l = '') => out.push(l));
      lines = stderr.mock.calls.map((c) => c.join(' ')).flatMap((l) => l.split('\n'));
    } finally {
      stderr.mockRestore();
    }
    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^learnsync ${command}: TEMPORAL_ADDRESS=${address}: no Temporal server`));
    expect(lines[0]).not.toMatch(/\n\s+at |stack trace/);
    expect(out.join('\n')).not.toMatch(/\s+at .*\(.*:\d+:\d+\)/);
  }, 60_000);
});
