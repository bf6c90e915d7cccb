// Every job runs through here: it is skipped (a SKIPPED row) when it already succeeded for its
// target date, unless forced; otherwise its writes and its SUCCESS ledger row commit in one
// transaction, so a crash leaves either both or neither.
import type pg from 'pg';
import { classifyPgError } from '../../connectors/postgres.js';
import type { NodeResult } from '../../pipelines/types.js';
import { DEFAULT_ROWS_DROP_SHARE, rowDropAlert } from '../../warehouse/row-drop-alerts.js';
import { closeAbandoned, insertRunning, markFailed, skipIfDone } from './ledger-rows.js';

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

export async function runLedgeredJob(
  pool: pg.Pool,
  spec: JobSpec,
  work: (tx: pg.PoolClient) => Promise<JobCounts>,
): Promise<NodeResult> {
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
    if (await skipIfDone(client, spec)) {
      await client.query('COMMIT');
      return { rows: 0, skipped: true };
    }
    await closeAbandoned(client, spec, 'date');
    // The RUNNING row is written outside the job's transaction so that `status` shows it now.
    runId = await insertRunning(pool, spec);
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
    if (runId) await markFailed(pool, runId, err, Date.now() - started);
    throw classifyPgError(err);
  } finally {
    client.removeListener('error', onConnectionError);
    client.release();
  }
}
