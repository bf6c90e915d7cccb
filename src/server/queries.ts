// Ledger reads behind the API and the dashboard: per-pipeline and per-job summaries, rows per day,
// success rates and freshness. Every query is bounded by time and by the set of jobs.
import type { Pool } from '../connectors/postgres.js';

export interface PipelineLedgerSummary {
  pipeline: string;
  last_started_at: Date | null;
  last_status: string | null;
  last_target_date: string | null;
  last_workflow_id: string | null;
  runs_7d: number;
  succeeded_7d: number;
  failed_7d: number;
}

export async function pipelineSummaries(db: Pool): Promise<Map<string, PipelineLedgerSummary>> {
  const { rows } = await db.query<PipelineLedgerSummary>(
    `WITH recent AS (SELECT * FROM etl_job_runs WHERE started_at >= now() - interval '7 days' AND pipeline IS NOT NULL)
     SELECT p.pipeline, l.started_at AS last_started_at, l.status AS last_status,
            to_char(l.target_date, 'YYYY-MM-DD') AS last_target_date,
            l.workflow_id AS last_workflow_id,
            (SELECT count(*)::int FROM recent r
              WHERE r.pipeline = p.pipeline AND r.status IN ('SUCCESS', 'FAILED')) AS runs_7d,
            (SELECT count(*)::int FROM recent r WHERE r.pipeline = p.pipeline AND r.status = 'SUCCESS') AS succeeded_7d,
            (SELECT count(*)::int FROM recent r WHERE r.pipeline = p.pipeline AND r.status = 'FAILED') AS failed_7d
       FROM (SELECT DISTINCT pipeline FROM etl_job_runs WHERE pipeline IS NOT NULL) p
       LEFT JOIN LATERAL (SELECT * FROM etl_job_runs e WHERE e.pipeline = p.pipeline
                           ORDER BY started_at DESC LIMIT 1) l ON true`,
  );
  return new Map(rows.map((r) => [r.pipeline, r]));
}

export interface RunLedgerTotals {
  workflow_run_id: string;
  rows: number;
  rejected: number;
  failed_jobs: number;
}

/** Ledger totals per Temporal run id (a workflow id is shared by reruns: it would merge them). */
export async function runTotals(db: Pool, runIds: string[]): Promise<Map<string, RunLedgerTotals>> {
  if (!runIds.length) return new Map();
  const { rows } = await db.query<RunLedgerTotals>(
    `SELECT workflow_run_id, coalesce(sum(rows_processed) FILTER (WHERE status = 'SUCCESS'), 0)::int AS rows,
            coalesce(sum(rows_rejected) FILTER (WHERE status = 'SUCCESS'), 0)::int AS rejected,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed_jobs
       FROM etl_job_runs WHERE workflow_run_id = ANY($1) GROUP BY workflow_run_id`,
    [runIds],
  );
  return new Map(rows.map((r) => [r.workflow_run_id, r]));
}

export async function jobRunsOf(db: Pool, workflowId: string, runId: string) {
  const { rows } = await db.query(
    `SELECT job_name AS job, status, to_char(target_date, 'YYYY-MM-DD') AS "targetDate", rows_processed AS rows,
            rows_rejected AS rejected, duration_ms AS "durationMs", attempt, error_message AS error, alert,
            started_at AS "startedAt", completed_at AS "completedAt"
       FROM etl_job_runs WHERE workflow_id = $1 AND workflow_run_id = $2 ORDER BY started_at LIMIT 500`,
    [workflowId, runId],
  );
  return rows;
}

/** Rows processed per job and target day (or run day when undated), last `days` days: the dashboard's volume chart. */
export async function rowsPerDay(db: Pool, days = 30) {
  const { rows } = await db.query<{ job: string; day: string; rows: number; rejected: number; alert: string | null }>(
    `SELECT job_name AS job, to_char(coalesce(target_date, run_date), 'YYYY-MM-DD') AS day,
            sum(rows_processed)::bigint::float8 AS rows, sum(rows_rejected)::bigint::float8 AS rejected,
            max(alert) AS alert
       FROM (SELECT DISTINCT ON (job_name, coalesce(target_date, run_date), CASE WHEN target_date IS NULL THEN id END) *
               FROM etl_job_runs WHERE status = 'SUCCESS' AND coalesce(target_date, run_date) >= CURRENT_DATE - $1::int
              ORDER BY job_name, coalesce(target_date, run_date), CASE WHEN target_date IS NULL THEN id END,
                       completed_at DESC) latest
      GROUP BY 1, 2 ORDER BY 2, 1`,
    [days],
  );
  return rows;
}

/** Last success per job (the freshness of what the job writes). */
export async function lastSuccessPerJob(db: Pool) {
  const { rows } = await db.query<{
    job: string;
    pipeline: string | null;
    last_success: Date;
    last_target_date: string | null;
  }>(
    `SELECT DISTINCT ON (job_name) job_name AS job, pipeline, completed_at AS last_success,
            to_char(target_date, 'YYYY-MM-DD') AS last_target_date
       FROM etl_job_runs WHERE status = 'SUCCESS' ORDER BY job_name, completed_at DESC`,
  );
  return rows;
}
