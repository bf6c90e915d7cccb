// Every job runs through here: it is skipped (a SKIPPED row) when it already succeeded for its
// target date, unless forced; otherwise its writes and its SUCCESS ledger row commit in one
// transaction, so a crash leaves either both or neither.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { classifyPgError } from '../../connectors/postgres.js';
import type { NodeResult } from '../../pipelines/types.js';
import { DEFAULT_ROWS_DROP_SHARE, rowDropAlert } from '../../warehouse/row-drop-alerts.js';

export interface JobCounts {
  processed: number;
  inserted?: number;
  updated?: number;
  deleted?: number;
  rejected?: number;
  detail?: NodeResult['detail'];
}

export interface JobSpec {
  jobName: string;
  pipeline?: string;
  targetDate?: string;
  force?: boolean;
  /** Flag the run when rows processed fall by more than this share against the 7-day median (config alerts.rowsDropShare). */
  rowsDropShare?: number;
}

function activityInfo(): { workflowId?: string; attempt?: number } {
  try {
    const info = Context.current().info;
    return { workflowId: info.workflowExecution?.workflowId, attempt: info.attempt };
  } catch {
    return {}; // called outside an activity (CLI run-job, tests)
  }
}

export async function runLedgeredJob(
  pool: pg.Pool,
  spec: JobSpec,
  work: (tx: pg.PoolClient) => Promise<JobCounts>,
): Promise<NodeResult> {
  const { workflowId, attempt } = activityInfo();
  const started = Date.now();
  const client = await pool.connect();
  // A checked-out client whose server goes away emits 'error'; unheard, that would kill the
  // worker. The failing query rejects anyway, which is what fails (and retries) the job.
  const onConnectionError = () => {};
  client.on('error', onConnectionError);
  let runId: string | undefined;
  try {
    await client.query('BEGIN');
    // One run of a job per target at a time; a previous attempt's lock died with its connection.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${spec.jobName}|${spec.targetDate ?? ''}`]);
    if (spec.targetDate && !spec.force) {
      const done = await client.query(
        `SELECT 1 FROM etl_job_runs WHERE job_name = $1 AND target_date = $2 AND status = 'SUCCESS' LIMIT 1`,
        [spec.jobName, spec.targetDate],
      );
      if (done.rowCount) {
        await client.query(
          `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, duration_ms, workflow_id, attempt, completed_at)
           VALUES ($1, $2, $3, $4, 'SKIPPED', 0, $5, $6, now())`,
          [randomUUID(), spec.jobName, spec.pipeline ?? null, spec.targetDate, workflowId ?? null, attempt ?? null],
        );
        await client.query('COMMIT');
        return { rows: 0, skipped: true };
      }
    }
    // Attempts that died mid-run left RUNNING rows; we hold the lock, so they are certainly gone.
    await client.query(
      `UPDATE etl_job_runs SET status = 'FAILED', error_message = 'abandoned: its worker stopped before finishing', completed_at = now()
       WHERE job_name = $1 AND target_date IS NOT DISTINCT FROM $2 AND status = 'RUNNING'`,
      [spec.jobName, spec.targetDate ?? null],
    );
    runId = randomUUID();
    // The RUNNING row is written outside the job's transaction so that `status` shows it now.
    await pool.query(
      `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, workflow_id, attempt)
       VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6)`,
      [runId, spec.jobName, spec.pipeline ?? null, spec.targetDate ?? null, workflowId ?? null, attempt ?? null],
    );
    const counts = await work(client);
    const alert = await rowDropAlert(client, spec, counts.processed, spec.rowsDropShare ?? DEFAULT_ROWS_DROP_SHARE);
    await client.query(
      `UPDATE etl_job_runs SET status = 'SUCCESS', rows_processed = $2, rows_inserted = $3, rows_updated = $4,
         rows_deleted = $5, rows_rejected = $6, duration_ms = $7, alert = $8, completed_at = now() WHERE id = $1`,
      [
        runId,
        counts.processed,
        counts.inserted ?? 0,
        counts.updated ?? 0,
        counts.deleted ?? 0,
        counts.rejected ?? 0,
        Date.now() - started,
        alert ?? null,
      ],
    );
    await client.query('COMMIT');
    return {
      rows: counts.processed,
      inserted: counts.inserted,
      updated: counts.updated,
      deleted: counts.deleted,
      rejected: counts.rejected,
      detail: alert ? { ...counts.detail, alert } : counts.detail,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (runId) {
      await pool
        .query(
          `UPDATE etl_job_runs SET status = 'FAILED', error_message = $2, duration_ms = $3, completed_at = now() WHERE id = $1`,
          [runId, (err as Error).message.slice(0, 4000), Date.now() - started],
        )
        .catch(() => {});
    }
    throw classifyPgError(err);
  } finally {
    client.removeListener('error', onConnectionError);
    client.release();
  }
}
