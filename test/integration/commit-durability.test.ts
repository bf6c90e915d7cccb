// Evidence for the ledger's commit handling (issue 17): on a Postgres with production durability
// (fsync, synchronous_commit and full_page_writes at their defaults) every COMMIT the server
// acknowledged survives a SIGKILL of the postmaster in the middle of a stream of commits — so a job
// may report SUCCESS as soon as its COMMIT returns. The same run on the throwaway settings the tests'
// own cluster uses (synchronous_commit=off) is printed beside it: acknowledged commits may vanish
// there, and a read-back on the committing connection cannot notice (that session sees its own
// commit), which is why learnsync does not rely on one and warns when a warehouse runs that way.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import { embeddedUrl, startEmbeddedPostgres } from '../../src/stack/embedded-postgres.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';

async function ackedCommitsLost(ephemeral: boolean): Promise<{ acked: number; lost: number; readBackMissed: number }> {
  // Under the project's .data (as the test cluster): the embedded server runs as another user when root.
  const dir = path.resolve(import.meta.dirname, '../../.data', `durability-${process.pid}-${ephemeral ? 'off' : 'on'}`);
  const port = await freePort();
  const dataDir = path.join(dir, 'pg');
  let pgHandle = await startEmbeddedPostgres({ dataDir, port, databases: ['d'], ephemeral });
  const url = embeddedUrl(port, 'd');
  try {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    await setup.query('CREATE TABLE commits (n int PRIMARY KEY)');
    await setup.end();
    const acked: number[] = [];
    let readBackMissed = 0;
    let next = 0;
    let stop = false;
    const writer = async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      await c.connect();
      try {
        while (!stop) {
          const n = next++;
          await c.query('BEGIN');
          await c.query('INSERT INTO commits VALUES ($1)', [n]);
          await c.query('COMMIT');
          acked.push(n);
          const seen = await c.query('SELECT 1 FROM commits WHERE n = $1', [n]);
          if (seen.rowCount !== 1) readBackMissed++;
        }
      } catch {
        // the server died under us: what was acknowledged is in `acked`
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    while (acked.length < 2000) await new Promise((r) => setTimeout(r, 20));
    process.kill(pgHandle.pid!, 'SIGKILL');
    stop = true;
    await Promise.all(writers);
    await new Promise((r) => setTimeout(r, 500));
    pgHandle = await startEmbeddedPostgres({ dataDir, port, databases: ['d'], ephemeral });
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const { rows } = await check.query<{ n: number }>('SELECT n FROM commits WHERE n = ANY($1)', [acked]);
    await check.end();
    return { acked: acked.length, lost: acked.length - rows.length, readBackMissed };
  } finally {
    await pgHandle.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

it('every acknowledged COMMIT survives a postmaster SIGKILL with production durability', async () => {
  const durable = await ackedCommitsLost(false);
  const throwaway = await ackedCommitsLost(true);
  console.log(
    `commit durability: production settings lost ${durable.lost} of ${durable.acked} acknowledged commits; ` +
      `synchronous_commit=off lost ${throwaway.lost} of ${throwaway.acked} ` +
      `(read-backs on the committing connection that noticed: ${throwaway.readBackMissed})`,
  );
  expect(durable.acked).toBeGreaterThanOrEqual(2000);
  expect(durable.lost).toBe(0);
  // A read-back on the committing session never sees a missing row, whatever the settings.
  expect(durable.readBackMissed + throwaway.readBackMissed).toBe(0);
}, 120_000);
