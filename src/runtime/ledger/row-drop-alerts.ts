// Row-count alerts (the seed's "significant drop in rows_processed"): a job is flagged when it
// processed fewer than (1 − share) × the median of its last 7 days. Dated jobs compare with the
// seven target dates before theirs (so a backfill is judged against its neighbours, not against
// today); undated jobs with their runs of the last seven days.
import type pg from 'pg';

export const DEFAULT_ROWS_DROP_SHARE = 0.5;
/** A median of one or two runs is noise, not a baseline. */
export const MIN_HISTORY_RUNS = 3;

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export async function rowDropAlert(
  db: Queryable,
  job: { jobName: string; targetDate?: string },
  processed: number,
  share: number,
): Promise<string | undefined> {
  const history = job.targetDate
    ? await db.query<{ median: number | null; runs: number }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY rows_processed)::float8 AS median, count(*)::int AS runs
           FROM (SELECT DISTINCT ON (target_date) rows_processed FROM etl_job_runs
                  WHERE job_name = $1 AND status = 'SUCCESS' AND target_date >= $2::date - 7 AND target_date < $2::date
                  ORDER BY target_date, completed_at DESC) latest`,
        [job.jobName, job.targetDate],
      )
    : await db.query<{ median: number | null; runs: number }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY rows_processed)::float8 AS median, count(*)::int AS runs
           FROM etl_job_runs WHERE job_name = $1 AND status = 'SUCCESS' AND target_date IS NULL
             AND started_at >= now() - interval '7 days'`,
        [job.jobName],
      );
  const { median, runs } = history.rows[0] ?? { median: null, runs: 0 };
  if (runs < MIN_HISTORY_RUNS || !median || processed >= median * (1 - share)) return undefined;
  const drop = Math.round((1 - processed / median) * 100);
  return (
    `rows processed ${processed.toLocaleString('en-US')} is ${drop}% below the 7-day ` +
    `median ${Math.round(median).toLocaleString('en-US')} (alert above ${Math.round(share * 100)}%)`
  );
}

export interface RowDropAlertRow {
  job_name: string;
  pipeline: string | null;
  target_date: string | null;
  rows_processed: number;
  alert: string;
  completed_at: Date;
}

/** Alerts still standing: the latest successful run of a job (per target date) carries one, within the last 7 days. */
export async function standingRowDropAlerts(db: Queryable, limit = 50): Promise<RowDropAlertRow[]> {
  const { rows } = await db.query<RowDropAlertRow>(
    `SELECT job_name, pipeline, to_char(target_date, 'YYYY-MM-DD') AS target_date, rows_processed, alert, completed_at
       FROM (SELECT DISTINCT ON (job_name, target_date) * FROM etl_job_runs
              WHERE status = 'SUCCESS' AND completed_at >= now() - interval '7 days'
              ORDER BY job_name, target_date, completed_at DESC) latest
      WHERE alert IS NOT NULL ORDER BY completed_at DESC LIMIT $1`,
    [limit],
  );
  return rows;
}
