// Shared by the warehouse tests: activity deps over the per-file test databases, checksums of
// fact tables, and small readers of the ledger.
import pino from 'pino';
import { createWarehouseActivities } from '../../../src/pipelines/warehouse/activities.js';
import type { ActivityDeps } from '../../../src/runtime/deps.js';
import { loadConfig } from '../../../src/config.js';
import type { Pool } from '../../../src/connectors/postgres.js';
import type { TestDatabases } from '../../support/databases.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

export const FACT_TABLES = [
  'dw.fact_sessions',
  'dw.fact_focus_events',
  'dw.fact_homework_events',
  'dw.fact_learning_progress',
  'dw.fact_recommendation_events',
] as const;

export function activityDeps(dbs: TestDatabases, env: Record<string, string> = {}): ActivityDeps {
  return {
    warehouse: dbs.warehouse,
    oltp: dbs.oltp,
    outputDir: '/tmp',
    logger: pino({ level: 'silent' }),
    config: loadConfig(env),
    sources: createSourceClients(loadConfig(env)),
  };
}

export type WarehouseActivities = ReturnType<typeof createWarehouseActivities>;

/**
 * md5 over every column of a fact table's rows for a date, in key order. Fact rows carry no
 * serials or load timestamps (their key is the natural key; dimension keys come from the as-of
 * join), so a rerun over the same source and dimensions must reproduce this exactly.
 */
export async function factChecksum(
  db: Pool,
  table: string,
  dateKey?: number,
): Promise<{ rows: number; md5: string | null }> {
  const { rows } = await db.query<{ rows: number; md5: string | null }>(
    `SELECT count(*)::int AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5
       FROM ${table} t ${dateKey === undefined ? '' : 'WHERE date_key = $1'}`,
    dateKey === undefined ? [] : [dateKey],
  );
  return rows[0]!;
}

export async function allFactChecksums(db: Pool, dateKey?: number) {
  const out: Record<string, { rows: number; md5: string | null }> = {};
  for (const t of FACT_TABLES) out[t] = await factChecksum(db, t, dateKey);
  return out;
}

export async function ledger(db: Pool, job: string, date?: string) {
  const { rows } = await db.query<{
    status: string;
    rows_processed: number;
    rows_inserted: number;
    rows_rejected: number;
    alert: string | null;
    error_message: string | null;
  }>(
    `SELECT status, rows_processed, rows_inserted, rows_rejected, alert, error_message FROM etl_job_runs
      WHERE job_name = $1 AND target_date IS NOT DISTINCT FROM $2::date ORDER BY started_at`,
    [job, date ?? null],
  );
  return rows;
}
