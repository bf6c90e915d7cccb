// Monthly range partitions of the fact tables, created on demand. Creation runs in its own short
// transaction before the job's: CREATE … PARTITION OF locks the parent table, and holding that
// lock for the whole of a long fact build would stall every other date's build.
import type { Pool } from '../../connectors/postgres.js';
import { withTransaction } from '../../connectors/postgres.js';
import { addDays } from '../../pipelines/dates.js';

export const dateKey = (date: string) => Number(date.replaceAll('-', ''));

export async function ensureMonthPartition(pool: Pool, table: string, date: string): Promise<string> {
  const month = date.slice(0, 7);
  const name = `${table}_p${month.replace('-', '')}`;
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]);
  if (exists.rows[0]?.t) return name;
  const first = `${month}-01`;
  const next = addDays(first, 32).slice(0, 7) + '-01';
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`partition:${name}`]);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES FROM (${dateKey(first)}) TO (${dateKey(next)})`);
  });
  return name;
}
