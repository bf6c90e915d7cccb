// Postgres pools and the COPY pipe that moves rows between two databases without holding them
// in memory: COPY (query) TO STDOUT on the source streams straight into COPY … FROM STDIN.
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(connectionString: string, opts: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 8,
    application_name: opts.applicationName ?? 'learnsync',
  });
  // An idle client losing its server must not crash the worker; the next checkout reconnects.
  pool.on('error', () => {});
  return pool;
}

export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Streams the rows of `selectSql` on `source` into `targetTable (columns)` through `target`
 * (typically a client inside the caller's transaction). Returns the number of rows copied.
 */
export async function copyBetween(
  source: pg.Pool | pg.PoolClient,
  selectSql: string,
  target: pg.PoolClient,
  targetTable: string,
  columns: readonly string[],
): Promise<number> {
  const srcClient = 'release' in source ? source : await source.connect();
  try {
    const out = srcClient.query(copyTo(`COPY (${selectSql}) TO STDOUT`));
    const into = target.query(copyFrom(`COPY ${targetTable} (${columns.join(', ')}) FROM STDIN`));
    await pipeline(out, into);
    return Number(into.rowCount ?? 0);
  } finally {
    if (!('release' in source)) srcClient.release();
  }
}

/** A SQL literal for a value already validated (dates, identifiers we own): COPY takes no parameters. */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
