// Staging: rows cross from the OLTP source into the warehouse as COPY streams, into temporary
// tables that live and die with the job's transaction. Nothing is buffered in the worker, and a
// crashed attempt leaves no half-filled staging behind for the next one to trip over.
import type pg from 'pg';
import { copyBetween, type Pool } from '../../connectors/postgres.js';

export interface StageSpec {
  /** Temporary table in the warehouse session, e.g. stage_sessions. */
  table: string;
  /** Column names and SQL types, in the order `select` produces them. */
  columns: readonly (readonly [name: string, type: string])[];
  /** The source query; COPY takes no parameters, so literals in it must be validated values. */
  select: string;
  /** Columns of the stage table's primary key, when it has one. */
  primaryKey?: readonly string[];
}

export const columnNames = (spec: StageSpec) => spec.columns.map(([name]) => name);

/** The stage table's DDL: a temporary table dropped when the job's transaction ends. */
export function stageTableDdl(spec: StageSpec): string {
  const columns = spec.columns.map(([n, t]) => `${n} ${t}`);
  const key = spec.primaryKey ? [`PRIMARY KEY (${spec.primaryKey.join(', ')})`] : [];
  return `CREATE TEMP TABLE ${spec.table} (${[...columns, ...key].join(', ')}) ON COMMIT DROP`;
}

/**
 * The spec's select with every column cast to the stage's type, as binary COPY needs exact types
 * (a no-op cast when they already agree).
 */
export function binarySelect(spec: StageSpec): string {
  const casts = spec.columns.map(([n, t]) => `s.${n}::${t}`).join(', ');
  return `SELECT ${casts} FROM (${spec.select}) AS s(${columnNames(spec).join(', ')})`;
}

/**
 * Creates the stage table inside `tx`, streams the source rows into it (binary COPY) and analyzes
 * it; returns the rows copied.
 */
export async function stageFromSource(source: pg.PoolClient, tx: pg.PoolClient, spec: StageSpec): Promise<number> {
  await tx.query(stageTableDdl(spec));
  // copyBetween analyzes the table after the load (temporary tables are invisible to autovacuum:
  // without statistics the transform's joins are planned blind); a second ANALYZE here cost
  // 250–470 ms per million rows for nothing.
  return copyBetween(source, binarySelect(spec), tx, spec.table, columnNames(spec), { format: 'binary' });
}

/**
 * Runs `fn` with one source connection in a read-only REPEATABLE READ transaction, so that every
 * COPY of a job sees the same snapshot (sessions and their events agree with each other).
 */
export async function withSourceSnapshot<T>(
  oltp: Pool,
  fn: (source: pg.PoolClient) => Promise<T>,
  /** An exported snapshot to read in (CDC's initial copy: the state its replication slot starts after). */
  snapshot?: string,
): Promise<T> {
  if (snapshot !== undefined && !/^[0-9A-Fa-f-]+$/.test(snapshot)) throw new Error(`not a snapshot name: ${snapshot}`);
  const source = await oltp.connect();
  let broken: Error | undefined;
  try {
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (snapshot !== undefined) await source.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
    const result = await fn(source);
    await source.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that failed mid-COPY may still be in COPY mode: close it (the server rolls
    // back) rather than send it a ROLLBACK that could wait forever, or return it to the pool.
    broken = err as Error;
    throw err;
  } finally {
    source.release(broken);
  }
}
