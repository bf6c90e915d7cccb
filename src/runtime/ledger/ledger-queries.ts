// The seed's two monitoring queries, used by `learnsync status`.
import type pg from 'pg';

export interface LedgerRow {
  job_name: string;
  pipeline: string | null;
  target_date: string | null;
  status: string;
  rows_processed: number;
  rows_rejected: number;
  duration_ms: number | null;
  error_message: string | null;
  started_at: Date;
}

export async function recentRuns(pool: pg.Pool, limit = 50): Promise<LedgerRow[]> {
  const { rows } = await pool.query<LedgerRow>(
    `SELECT job_name, pipeline, to_char(target_date, 'YYYY-MM-DD') AS target_date, status, rows_processed,
            rows_rejected, duration_ms, error_message, started_at
       FROM etl_job_runs ORDER BY started_at DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface DailySuccessRow {
  run_date: string;
  success_count: number;
  failed_count: number;
  total: number;
}

export async function dailySuccessRate(pool: pg.Pool): Promise<DailySuccessRow[]> {
  const { rows } = await pool.query<DailySuccessRow>(
    `SELECT to_char(run_date, 'YYYY-MM-DD') AS run_date,
            COUNT(*) FILTER (WHERE status = 'SUCCESS')::int AS success_count,
            COUNT(*) FILTER (WHERE status = 'FAILED')::int AS failed_count,
            COUNT(*)::int AS total
       FROM etl_job_runs WHERE run_date >= CURRENT_DATE - 7
      GROUP BY run_date ORDER BY run_date DESC`,
  );
  return rows;
}
