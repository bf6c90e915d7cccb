// Postgres pools and the COPY pipe that moves rows between two databases without holding them
// in memory: COPY (query) TO STDOUT on the source streams straight into COPY … FROM STDIN.
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { AuthError, ConfigError, ValidationError } from '../errors.js';
import { DEFAULT_LIVENESS, watchLiveness, type LivenessOptions } from './postgres-liveness.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** How long opening a connection may take before it fails (and the job retries). */
  connectTimeoutMs?: number;
  /** The silent-network watchdog (postgres-liveness.ts); `{ probeEveryMs: 0 }` turns it off. */
  liveness?: Partial<LivenessOptions>;
  onLivenessAbort?: (reason: string, aborted: number) => void;
}

export function createPool(connectionString: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 8,
    application_name: opts.applicationName ?? 'learnsync',
    // A server that accepts TCP but never answers (hung postmaster, blackholed route) must not
    // hold a job forever at connect time; keepalives find dead peers on idle pooled connections.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 15_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A client losing its server emits 'error'; unheard, that kills the process. Idle clients report
  // through the pool, checked-out ones through themselves: their failing query rejects anyway,
  // which is what fails (and retries) the job.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const stop = watchLiveness(pool, connectionString, { ...DEFAULT_LIVENESS, ...opts.liveness }, opts.onLivenessAbort);
  const end = pool.end.bind(pool);
  pool.end = ((cb?: () => void) => {
    stop();
    return end(cb as never);
  }) as typeof pool.end;
  return pool;
}

/**
 * The durability settings that let an acknowledged COMMIT vanish in a crash ("fsync=off,
 * synchronous_commit=off"), or undefined when the server keeps what it acknowledges. learnsync
 * reports SUCCESS once its COMMIT returns; only these settings make that report untrue.
 */
export async function throwawayDurability(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit') ORDER BY name`,
  );
  const off = rows.filter((r) => r.setting === 'off').map((r) => `${r.name}=off`);
  return off.length ? off.join(', ') : undefined;
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
  opts: { analyze?: boolean; format?: 'text' | 'binary' } = {},
): Promise<number> {
  const srcClient = 'release' in source ? source : await source.connect();
  try {
    // Binary skips printing and parsing every value (timestamps, UUIDs), but the select's column
    // types must then be exactly the target's: the caller casts when it cannot promise that.
    const format = opts.format === 'binary' ? ' (FORMAT binary)' : '';
    const out = srcClient.query(copyTo(`COPY (${selectSql}) TO STDOUT${format}`));
    const into = target.query(copyFrom(`COPY ${targetTable} (${columns.join(', ')}) FROM STDIN${format}`));
    await pipeline(out, into);
    // Fresh staging rows have no statistics: without them the planner guesses a handful of rows
    // and picks nested loops that turn a one-second transform into minutes.
    if (opts.analyze !== false) await target.query(`ANALYZE ${targetTable}`);
    return Number(into.rowCount ?? 0);
  } finally {
    if (!('release' in source)) srcClient.release();
  }
}

/** A SQL literal for a value already validated (dates, identifiers we own): COPY takes no parameters. */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Postgres errors that no retry can fix become non-retryable: bad credentials (SQLSTATE 28…),
 * SQL that does not match the schema (42…), a missing database (3D000), and data the statement
 * cannot store — data exceptions (22…, a value out of range, bad encoding) and program limits
 * (54…, e.g. 54000 "index row size exceeds btree maximum") — which fail the same way on every
 * retry, so the message names the row and the window (Postgres's own COPY line / column context,
 * plus `context` from the caller). The rest (connection loss, deadlocks, serialization failures)
 * stay retryable. README "Error classification" lists the whole table.
 */
export function classifyPgError(err: unknown, context?: string): unknown {
  const e = err as { code?: unknown; detail?: string; where?: string; table?: string; column?: string };
  const code = e?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return err;
  const message = `${(err as Error).message} (SQLSTATE ${code})`;
  if (code.startsWith('28')) return new AuthError(message);
  if (code.startsWith('42') || code === '3D000') return new ConfigError(message);
  if (code.startsWith('22') || code.startsWith('54')) {
    const at = [
      context,
      e.table && `table ${e.table}${e.column ? `, column ${e.column}` : ''}`,
      e.where?.split('\n')[0],
      e.detail,
    ].filter(Boolean);
    return new ValidationError(`${message}${at.length ? ` — at ${at.join('; ')}` : ''}`);
  }
  return err;
}
