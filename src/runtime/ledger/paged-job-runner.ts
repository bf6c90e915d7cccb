// A variant of runLedgeredJob for extractions that commit page by page: each page's rows, its
// progress marker and the API hits it cost commit in their own transaction, so a crash loses at
// most the page in flight. The ledger row stays RUNNING until the work returns; SUCCESS is then
// written in one last transaction together with whatever the job hands to onSuccess. The same
// skip rule applies: a dated job that already succeeded is SKIPPED unless forced.
import type pg from 'pg';
import type { NodeResult } from '../../pipelines/types.js';
import {
  closeAbandoned,
  insertRunning,
  markFailed,
  markSucceeded,
  ownCommittedResult,
  skipIfDone,
  tagTransactionWithRun,
} from './ledger-rows.js';
import { writeHits, type ApiHitRecorder, type HitRun } from './api-hits.js';
import type { JobCounts, JobSpec } from './job-types.js';
import { classifyPgError } from '../../connectors/postgres.js';
import { withAnnouncedWait } from '../announced-wait.js';
import { redactError } from '../../secrets.js';

export interface PagedJob {
  /** The etl_job_runs id of this attempt (api_hits rows point at it). */
  runId: string;
  /** Runs fn in its own transaction, together with the API hits spent since the last commit. */
  commit<T>(fn: (tx: pg.PoolClient) => Promise<T>): Promise<T>;
}

export interface PagedJobSpec extends JobSpec {
  hits?: ApiHitRecorder;
}

// Two-key advisory locks (class, job) so these never collide with runLedgeredJob's one-key locks.
const LOCK_CLASS = 727_005;

export async function runPagedLedgeredJob(
  pool: pg.Pool,
  spec: PagedJobSpec,
  work: (job: PagedJob) => Promise<JobCounts>,
  opts: { onSuccess?: (tx: pg.PoolClient) => Promise<void> } = {},
): Promise<NodeResult> {
  const started = Date.now();
  const client = await pool.connect();
  let runId: string | undefined;
  let inTx = false;
  let failed = false;
  const hitRun = (): HitRun => ({
    runId: runId!,
    jobName: spec.jobName,
    pipeline: spec.pipeline,
    source: spec.hits?.source ?? 'api',
  });
  const tx = async <T>(fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    await tagTransactionWithRun(client);
    inTx = true;
    const result = await fn();
    await client.query('COMMIT');
    inTx = false;
    return result;
  };
  try {
    // One run of a job at a time, across dates: its progress rows are per job. Held for the whole run.
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, spec.jobName]);
    // The completion of an attempt of this very run was lost after its SUCCESS committed: that is the result.
    const committed = await ownCommittedResult(client, spec);
    if (committed) return committed;
    if (await skipIfDone(client, spec)) return { rows: 0, skipped: true };
    // We hold the job's lock, so RUNNING rows of this job belong to attempts that died.
    await closeAbandoned(client, spec, 'job');
    runId = await insertRunning(client, spec);
    const job: PagedJob = {
      runId,
      commit: async (fn) => {
        let taken: ReturnType<ApiHitRecorder['takePending']> | undefined;
        try {
          return await tx(async () => {
            const result = await fn(client);
            taken = spec.hits?.takePending();
            if (taken) await writeHits(client, hitRun(), taken);
            return result;
          });
        } catch (err) {
          if (inTx) await client.query('ROLLBACK').catch(() => {});
          inTx = false;
          if (taken) spec.hits!.restore(taken);
          throw err;
        }
      },
    };
    const counts = await work(job);
    const result = await tx(async () => {
      await opts.onSuccess?.(client);
      const taken = spec.hits?.takePending();
      if (taken) await writeHits(client, hitRun(), taken);
      return markSucceeded(client, runId!, counts, Date.now() - started);
    });
    return result;
  } catch (err) {
    failed = true;
    if (inTx) await client.query('ROLLBACK').catch(() => {});
    if (runId) {
      // Calls spent after the last commit were spent all the same: record them with the failure.
      const taken = spec.hits?.takePending();
      if (taken) await writeHits(pool, hitRun(), taken).catch(() => {});
      await markFailed(pool, runId, err, Date.now() - started);
    }
    // Classified once (Postgres codes here, HTTP failures in the connectors), secrets masked; an announced wait
    // rides along as the next retry's delay.
    throw withAnnouncedWait(redactError(classifyPgError(err)));
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, spec.jobName]).catch(() => {});
    // After a failure the connection may be the broken thing: discard it rather than pool it.
    client.release(failed);
  }
}
