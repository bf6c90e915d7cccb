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
}

export const columnNames = (spec: StageSpec) => spec.columns.map(([name]) => name);

/** Creates the stage table inside `tx`, streams the source rows into it and analyzes it; returns the rows copied. */
export async function stageFromSource(source: pg.PoolClient, tx: pg.PoolClient, spec: StageSpec): Promise<number> {
  await tx.query(
    `CREATE TEMP TABLE ${spec.table} (${spec.columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ON COMMIT DROP`,
  );
  const copied = await copyBetween(source, spec.select, tx, spec.table, columnNames(spec));
  // Temporary tables are invisible to autovacuum: without statistics the transform's joins are planned blind.
  await tx.query(`ANALYZE ${spec.table}`);
  return copied;
}

/**
 * Runs `fn` with one source connection in a read-only REPEATABLE READ transaction, so that every
 * COPY of a job sees the same snapshot (sessions and their events agree with each other).
 */
export async function withSourceSnapshot<T>(oltp: Pool, fn: (source: pg.PoolClient) => Promise<T>): Promise<T> {
  const source = await oltp.connect();
  let broken: Error | undefined;
  try {
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
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
