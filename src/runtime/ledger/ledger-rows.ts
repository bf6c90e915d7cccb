// The etl_job_runs rows both job runners write: SKIPPED when a dated job already succeeded,
// RUNNING rows of ended attempts closed with what is known of them, the RUNNING row of this
// attempt, and SUCCESS or FAILED at the end. Times come from clock_timestamp(), the clock at the
// statement, so a row never completes before it started.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { activityContext } from '../activity-context.js';
import { describeFailure } from '../error-causes.js';
import type { NodeResult } from '../../pipelines/types.js';
import type { JobCounts, JobSpec } from './job-types.js';
import { redactError } from '../../secrets.js';

type Db = pg.Pool | pg.PoolClient;

/** This worker process, as recorded on the rows its attempts write: "host pid 1234". */
export const THIS_WORKER = `${hostname()} pid ${process.pid}`;

function attemptIds(): [string | null, string | null, number | null, string] {
  const info = activityContext()?.info;
  return [
    info?.workflowExecution?.workflowId ?? null,
    info?.workflowExecution?.runId ?? null,
    info?.attempt ?? null,
    THIS_WORKER,
  ];
}

/**
 * Tags the job's transaction with its workflow id: etl_rejects rows written in it take the id as
 * their default (migration 065), so a run's rejects can be listed whichever family wrote them.
 */
export async function tagTransactionWithRun(db: Db): Promise<void> {
  const workflowId = activityContext()?.info?.workflowExecution?.workflowId;
  if (workflowId) await db.query(`SELECT set_config('learnsync.workflow_id', $1, true)`, [workflowId]);
}

/**
 * The result this workflow run's node already committed, when an earlier attempt of the same
 * activity committed its SUCCESS but its completion never reached Temporal (the worker died after
 * COMMIT, or the server was down). Outside a workflow (run-job, tests) there is no such attempt.
 */
export async function ownCommittedResult(db: Db, spec: JobSpec): Promise<NodeResult | undefined> {
  const info = activityContext()?.info;
  const wf = info?.workflowExecution;
  // Only a retry can follow a lost completion: a first attempt has nothing of its own to find.
  if (!wf || !info || info.attempt <= 1) return undefined;
  const { rows } = await db.query<{ result: NodeResult | null; rows_processed: number }>(
    `SELECT result, rows_processed FROM etl_job_runs
     WHERE workflow_id = $1 AND workflow_run_id = $2 AND job_name = $3 AND target_date IS NOT DISTINCT FROM $4
       AND status = 'SUCCESS'
     ORDER BY completed_at DESC LIMIT 1`,
    [wf.workflowId, wf.runId, spec.jobName, spec.targetDate ?? null],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.result ?? { rows: row.rows_processed };
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
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, duration_ms, workflow_id, workflow_run_id,
       attempt, worker, started_at, completed_at)
     VALUES ($1, $2, $3, $4, 'SKIPPED', 0, $5, $6, $7, $8, clock_timestamp(), clock_timestamp())`,
    [randomUUID(), spec.jobName, spec.pipeline ?? null, spec.targetDate, ...attemptIds()],
  );
  return true;
}

// Failures this process could not write (the database was down when the attempt failed): the
// next attempt, holding the job's lock, writes them onto the rows they belong to.
const unwrittenFailures = new Map<string, string>();
const MAX_UNWRITTEN = 1000;

/** Is the process `pid` on this host still alive? */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a RUNNING row whose attempt no longer holds the job's lock has no result. */
export function endedAttemptMessage(runId: string, worker: string | null): string {
  const unwritten = unwrittenFailures.get(runId);
  if (unwritten) return unwritten;
  if (worker === THIS_WORKER)
    return 'interrupted: the attempt lost its database connection before it could record its result';
  const m = worker ? /^(.*) pid (\d+)$/.exec(worker) : null;
  if (m && m[1] === hostname()) {
    return processAlive(Number(m[2]))
      ? `interrupted: its worker (${worker}) is running but the attempt ended without recording a result ` +
          '(database connection lost)'
      : `abandoned: its worker (${worker}) stopped before finishing`;
  }
  return worker
    ? `ended without a result on ${worker}: its worker stopped or lost its database connection`
    : 'abandoned: its worker stopped before finishing';
}

/**
 * Closes RUNNING rows left by attempts that ended without recording a result. Only safe while
 * holding the job's advisory lock: then no live attempt can own them. `scope` 'date' closes the
 * job's rows for this target only; 'job' closes them for every date (jobs locked per job).
 */
export async function closeAbandoned(db: Db, spec: JobSpec, scope: 'date' | 'job'): Promise<void> {
  const { rows } = await db.query<{ id: string; worker: string | null }>(
    `SELECT id, worker FROM etl_job_runs
     WHERE job_name = $1 AND status = 'RUNNING' AND ($3 OR target_date IS NOT DISTINCT FROM $2)`,
    [spec.jobName, spec.targetDate ?? null, scope === 'job'],
  );
  for (const row of rows) {
    await db.query(
      `UPDATE etl_job_runs SET status = 'FAILED', error_message = $2, completed_at = clock_timestamp()
       WHERE id = $1 AND status = 'RUNNING'`,
      [row.id, endedAttemptMessage(row.id, row.worker)],
    );
    unwrittenFailures.delete(row.id);
  }
}

/** Writes this attempt's RUNNING row and returns its id. */
export async function insertRunning(db: Db, spec: JobSpec): Promise<string> {
  const runId = randomUUID();
  await db.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, workflow_id, workflow_run_id, attempt,
       worker, started_at)
     VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6, $7, $8, clock_timestamp())`,
    [runId, spec.jobName, spec.pipeline ?? null, spec.targetDate ?? null, ...attemptIds()],
  );
  return runId;
}

/**
 * Best effort: the job has failed already, and that error is the one to report. The message names
 * the cause ("database unavailable: …"); when the database cannot take it either, it is kept for
 * the next attempt to write.
 */
export async function markFailed(pool: pg.Pool, runId: string, err: unknown, durationMs: number): Promise<void> {
  const message = describeFailure(redactError(err)).slice(0, 4000);
  try {
    await pool.query(
      // Only a RUNNING row: a SUCCESS that committed before the connection failed stays SUCCESS.
      `UPDATE etl_job_runs SET status = 'FAILED', error_message = $2, duration_ms = $3, completed_at = clock_timestamp()
       WHERE id = $1 AND status = 'RUNNING'`,
      [runId, message, durationMs],
    );
  } catch {
    if (unwrittenFailures.size >= MAX_UNWRITTEN) unwrittenFailures.delete(unwrittenFailures.keys().next().value!);
    unwrittenFailures.set(runId, message);
  }
}

/** The SUCCESS row, written inside the transaction that commits the job's last writes, with the result returned. */
export async function markSucceeded(
  db: Db,
  runId: string,
  counts: JobCounts,
  durationMs: number,
  alert: string | null = null,
): Promise<NodeResult> {
  const result = toNodeResult(counts, alert);
  await db.query(
    `UPDATE etl_job_runs SET status = 'SUCCESS', rows_processed = $2, rows_inserted = $3, rows_updated = $4,
       rows_deleted = $5, rows_rejected = $6, duration_ms = $7, alert = $8, result = $9,
       completed_at = clock_timestamp() WHERE id = $1`,
    [
      runId,
      counts.processed,
      counts.inserted ?? 0,
      counts.updated ?? 0,
      counts.deleted ?? 0,
      counts.rejected ?? 0,
      durationMs,
      alert,
      JSON.stringify(result),
    ],
  );
  // The job's failed-job alert stands while its latest finished attempt failed: this one succeeded,
  // so it resolves now, with the success, not at the next alerts evaluation (announced by that one).
  await db.query(
    `UPDATE alerts SET resolved_at = now()
      WHERE resolved_at IS NULL AND rule = 'failed_job'
        AND subject = (SELECT job_name FROM etl_job_runs WHERE id = $1)`,
    [runId],
  );
  return result;
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
