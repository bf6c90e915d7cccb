// What a fact job is: the stages it copies from the source for its date, and one SELECT that
// turns them into candidate fact rows — each with the dimension keys valid at event time, a
// reject reason (NULL when the row is good) and the staged row itself (for etl_rejects).
import type { StageSpec } from '../stage.js';

export interface FactDay {
  date: string;
  dateKey: number;
  /** timestamptz literals: midnight UTC of the date and of the next day */
  dayStart: string;
  dayEnd: string;
  /** date literal of the day before (for day-over-day measures) */
  previousDate: string;
}

export interface FactSpec {
  job: string;
  table: string;
  /** What one row of the fact is, for the ledger's detail (e.g. "sessions"). */
  grain: string;
  /** Columns inserted into the fact, in the order `candidates` names them. */
  columns: readonly string[];
  stages(day: FactDay): StageSpec[];
  /** SELECT with every fact column, reject_reason and src (the staged row, as a record). */
  candidates(day: FactDay): string;
}

/** LEFT JOIN to the SCD2 version of a dimension valid at instant `at`. */
export function asOfJoin(alias: string, dim: 'tenant' | 'learner', id: string, at: string): string {
  return `LEFT JOIN dw.dim_${dim} ${alias} ON ${alias}.${dim}_id = ${id}
            AND ${alias}.effective_from <= ${at} AND (${alias}.effective_to IS NULL OR ${at} < ${alias}.effective_to)`;
}

/** Why an as-of join found nothing: the key was never seen, or no version covers the instant. */
export function missingVersion(dim: 'tenant' | 'learner', id: string): string {
  return `CASE WHEN EXISTS (SELECT 1 FROM dw.dim_${dim} x WHERE x.${dim}_id = ${id})
               THEN '${dim} has no version valid at event time' ELSE 'unknown ${dim}_id' END`;
}
