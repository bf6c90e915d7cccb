// The etl_job_runs rows both job runners write: SKIPPED when a dated job already succeeded,
// abandoned RUNNING rows closed, the RUNNING row of this attempt, and SUCCESS or FAILED at the end.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { activityContext } from '../activity-context.js';
import type { NodeResult } from '../../pipelines/types.js';
import type { JobCounts, JobSpec } from './job-types.js';
import { redactError } from '../../secrets.js';

type Db = pg.Pool | pg.PoolClient;

function attemptIds(): [string | null, number | null] {
  const info = activityContext()?.info;
  return [info?.workflowExecution?.workflowId ?? null, info?.attempt ?? null];
}

/** Records a SKIPPED row and returns true when the dated job already succeeded and force is off. */
export async function skipIfDone(db: Db, spec: JobSpec): Promise<boolean> {
  if (!spec.targetDate || spec.force) return false;
  const done = await db.query(
    `SELECT 1 FROM etl_job_runs WHERE job_name = $1 AND target_date = $2 AND status = 'SUCCESS' LIMIT 1`,
    [spec.jobName, spec.targetDate],
  );
  if (!done.rowCount) return false;
  await db.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, duration_ms, workflow_id, attempt,
     completed_at)
     VALUES ($1, $2, $3, $4, 'SKIPPED', 0, $5, $6, now())`,
    [randomUUID(), spec.jobName, spec.pipeline ?? null, spec.targetDate, ...attemptIds()],
  );
  return true;
}

/**
 * Closes RUNNING rows left by attempts that died. Only safe while holding the job's advisory
 * lock: then no live attempt can own them. `scope` 'date' closes the job's rows for this target
 * only; 'job' closes them for every date (for jobs locked per job, not per date).
 */
export async function closeAbandoned(db: Db, spec: JobSpec, scope: 'date' | 'job'): Promise<void> {
  await db.query(
    `UPDATE etl_job_runs SET status = 'FAILED', error_message = 'abandoned: its worker stopped before finishing',
     completed_at = now()
     WHERE job_name = $1 AND status = 'RUNNING' AND ($3 OR target_date IS NOT DISTINCT FROM $2)`,
    [spec.jobName, spec.targetDate ?? null, scope === 'job'],
  );
}

/** Writes this attempt's RUNNING row and returns its id. */
export async function insertRunning(db: Db, spec: JobSpec): Promise<string> {
  const runId = randomUUID();
  await db.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, workflow_id, attempt)
     VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6)`,
    [runId, spec.jobName, spec.pipeline ?? null, spec.targetDate ?? null, ...attemptIds()],
  );
  return runId;
}

/** Best effort: the job has failed already, and that error is the one to report. */
export async function markFailed(pool: pg.Pool, runId: string, err: unknown, durationMs: number): Promise<void> {
  await pool
    .query(
      `UPDATE etl_job_runs SET status = 'FAILED', error_message = $2, duration_ms = $3, completed_at = now()
        WHERE id = $1`,
      [runId, redactError(err as Error).message.slice(0, 4000), durationMs],
    )
    .catch(() => {});
}

/** The SUCCESS row, written inside the transaction that commits the job's last writes. */
export async function markSucceeded(
  db: Db,
  runId: string,
  counts: JobCounts,
  durationMs: number,
  alert: string | null = null,
): Promise<void> {
  await db.query(
    `UPDATE etl_job_runs SET status = 'SUCCESS', rows_processed = $2, rows_inserted = $3, rows_updated = $4,
       rows_deleted = $5, rows_rejected = $6, duration_ms = $7, alert = $8, completed_at = now() WHERE id = $1`,
    [
      runId,
      counts.processed,
      counts.inserted ?? 0,
      counts.updated ?? 0,
      counts.deleted ?? 0,
      counts.rejected ?? 0,
      durationMs,
      alert,
    ],
  );
}

/** What the workflow gets back: the counts, never the rows; an alert travels in the detail. */
export function toNodeResult(counts: JobCounts, alert?: string | null): NodeResult {
  return {
    rows: counts.processed,
    inserted: counts.inserted,
    updated: counts.updated,
    deleted: counts.deleted,
    rejected: counts.rejected,
    detail: alert ? { ...counts.detail, alert } : counts.detail,
  };
}
