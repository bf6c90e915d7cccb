// Monthly range partitions of the fact tables, created on demand, in their own short transaction
// before the job's. The partition is created on its own and then attached: ATTACH PARTITION
// takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so builds of other dates that are
// writing to the table meanwhile neither block it nor wait for it (CREATE … PARTITION OF would
// need ACCESS EXCLUSIVE and stall a backfill at every month boundary).
import type { Pool } from '../../connectors/postgres.js';
import { withTransaction } from '../../connectors/postgres.js';
import { addDays } from '../dates.js';

export const dateKey = (date: string) => Number(date.replaceAll('-', ''));

export async function ensureMonthPartition(pool: Pool, table: string, date: string): Promise<string> {
  const month = date.slice(0, 7);
  const name = `${table}_p${month.replace('-', '')}`;
  const exists = async (q: Pick<Pool, 'query'>) =>
    Boolean((await q.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name])).rows[0]?.t);
  if (await exists(pool)) return name;
  const first = `${month}-01`;
  const next = addDays(first, 32).slice(0, 7) + '-01';
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`partition:${name}`]);
    if (await exists(tx)) return; // another job made it while we waited
    await tx.query(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await tx.query(
      `ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM (${dateKey(first)}) TO (${dateKey(next)})`,
    );
  });
  return name;
}
