// Every job runs through here: it is skipped (a SKIPPED row) when it already succeeded for its
// target date, unless forced; otherwise its writes and its SUCCESS ledger row commit in one
// transaction, so a crash leaves either both or neither. A retry of the same workflow run's node
// that finds its own committed SUCCESS (the completion was lost) returns that result, forced or not.
import type pg from 'pg';
import { classifyPgError } from '../../connectors/postgres.js';
import { withAnnouncedWait } from '../announced-wait.js';
import type { NodeResult } from '../../pipelines/types.js';
export type { JobCounts, JobSpec } from './job-types.js';
import { DEFAULT_ROWS_DROP_SHARE, rowDropAlert } from './row-drop-alerts.js';
import type { JobCounts, JobSpec } from './job-types.js';
import {
  closeAbandoned,
  insertRunning,
  markFailed,
  markSucceeded,
  ownCommittedResult,
  skipIfDone,
  tagTransactionWithRun,
} from './ledger-rows.js';
import { redactError } from '../../secrets.js';

export async function runLedgeredJob(
  pool: pg.Pool,
  spec: JobSpec,
  work: (tx: pg.PoolClient) => Promise<JobCounts>,
): Promise<NodeResult> {
  const started = Date.now();
  const client = await pool.connect();
  let runId: string | undefined;
  try {
    await client.query('BEGIN');
    await tagTransactionWithRun(client);
    // One run of a job per target at a time; a previous attempt's lock died with its connection.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${spec.jobName}|${spec.targetDate ?? ''}`]);
    const committed = await ownCommittedResult(client, spec);
    if (committed) {
      await client.query('COMMIT');
      return committed;
    }
    if (await skipIfDone(client, spec)) {
      await client.query('COMMIT');
      return { rows: 0, skipped: true };
    }
    await closeAbandoned(client, spec, 'date');
    // The RUNNING row is written outside the job's transaction so that `status` shows it now.
    runId = await insertRunning(pool, spec);
    const counts = await work(client);
    const alert = await rowDropAlert(client, spec, counts.processed, spec.rowsDropShare ?? DEFAULT_ROWS_DROP_SHARE);
    const result = await markSucceeded(client, runId, counts, Date.now() - started, alert);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (runId) await markFailed(pool, runId, err, Date.now() - started);
    // Classified once (Postgres codes here, HTTP failures in the connectors), secrets masked; an announced wait
    // rides along as the next retry's delay.
    throw withAnnouncedWait(redactError(classifyPgError(err)));
  } finally {
    client.release();
  }
}
