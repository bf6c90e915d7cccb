// The one definition of a success rate, used by `status` (text and JSON), the API and (through the
// API) the dashboard: over jobs, each counted once by its final attempt (a job retried three times
// and then successful is one success), SKIPPED left out of the rate; failed attempts that a later
// attempt made good are counted beside it, never in it.
import type { Pool } from '../../connectors/postgres.js';

/** The final attempt of every job of every workflow run (and date) in the last 7 days. */
export const FINAL_ATTEMPTS = `
  SELECT DISTINCT ON (coalesce(workflow_id, ''), coalesce(workflow_run_id, ''), job_name, target_date) *
    FROM etl_job_runs
   WHERE started_at >= now() - interval '7 days'
   ORDER BY coalesce(workflow_id, ''), coalesce(workflow_run_id, ''), job_name, target_date, started_at DESC`;

// Failed attempts that were not a job's final one: retried, whatever came after.
const RETRIED_FAILURES = `
  SELECT * FROM etl_job_runs a
   WHERE a.started_at >= now() - interval '7 days' AND a.status = 'FAILED'
     AND EXISTS (SELECT 1 FROM etl_job_runs b
                  WHERE coalesce(b.workflow_id, '') = coalesce(a.workflow_id, '')
                    AND coalesce(b.workflow_run_id, '') = coalesce(a.workflow_run_id, '') AND b.job_name = a.job_name
                    AND b.target_date IS NOT DISTINCT FROM a.target_date AND b.started_at > a.started_at)`;

export interface JobSuccess {
  jobs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Failed attempts that were retried (not in the rate). */
  failedAttempts: number;
  /** Succeeded jobs as a percentage of succeeded + failed (final attempts); null with neither. */
  successRatePercent: number | null;
}

export interface DailyRate extends JobSuccess {
  date: string;
}

const rate = (succeeded: number, failed: number) =>
  succeeded + failed ? Math.round((1000 * succeeded) / (succeeded + failed)) / 10 : null;

type Counts = Omit<JobSuccess, 'successRatePercent'>;

const COUNTS = `count(*) FILTER (WHERE status <> 'RETRIED')::int AS jobs,
  count(*) FILTER (WHERE status = 'SUCCESS')::int AS succeeded,
  count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
  count(*) FILTER (WHERE status = 'SKIPPED')::int AS skipped,
  count(*) FILTER (WHERE status = 'RETRIED')::int AS "failedAttempts"`;

const BOTH = `(SELECT run_date, pipeline, status FROM (${FINAL_ATTEMPTS}) f
               UNION ALL SELECT run_date, pipeline, 'RETRIED' FROM (${RETRIED_FAILURES}) r) x`;

/** Per run day, newest first (last 7 days). */
export async function dailySuccessRate(pool: Pool): Promise<DailyRate[]> {
  const { rows } = await pool.query<Counts & { date: string }>(
    `SELECT to_char(run_date, 'YYYY-MM-DD') AS date, ${COUNTS} FROM ${BOTH}
      GROUP BY run_date ORDER BY run_date DESC`,
  );
  return rows.map((r) => ({ ...r, successRatePercent: rate(r.succeeded, r.failed) }));
}

/** Per pipeline over the last 7 days. */
export async function pipelineSuccessRates(pool: Pool): Promise<Map<string, JobSuccess>> {
  const { rows } = await pool.query<Counts & { pipeline: string }>(
    `SELECT pipeline, ${COUNTS} FROM ${BOTH} WHERE pipeline IS NOT NULL GROUP BY pipeline`,
  );
  return new Map(
    rows.map(({ pipeline, ...r }) => [pipeline, { ...r, successRatePercent: rate(r.succeeded, r.failed) }]),
  );
}
