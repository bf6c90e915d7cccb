// Identity-resolve stage of the learning ROI pipeline, in SQL in the warehouse so it scales to
// millions of learners. A learner is a normalised exam e-mail (trimmed, lower-cased). Three sources
// claim e-mail → dotcom_id, in priority order:
//   1. the verified e-mails snapshot    (within it: the primary e-mail, then the newest row)
//   2. signup events                    (within them: the newest signup)
//   3. the exam records' own dotcomid   (within them: the id on most of the learner's exams)
// The best claim decides and the learner records which source it was; an e-mail claimed by two
// different ids is also written to identity_conflicts with every candidate; a learner nobody
// claims gets dotcom_id 0. Identity rows with no usable e-mail or id go to etl_rejects; only
// e-mails marked verified = true count as verified (NULL is unknown, so not verified). Every exam
// row is accounted for: read = resolved + unresolved + rejected (reasons in the result's detail).
// Normalisation and validity: src/warehouse/email-identity.ts (README "Identity policy").
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';
import type { Pool, PoolClient } from '../../connectors/postgres.js';
import { LATEST_SNAPSHOT, resolvePartitions, WORK_TABLES } from './identity-partitions.js';

export interface ExamRowAccount {
  read: number;
  resolved: number;
  unresolved: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

export interface IdentityCounts {
  identityRows: number;
  rejected: number;
  /** Exam rows: read = resolved + unresolved + rejected (the datasets stage writes their rejects). */
  examRows: ExamRowAccount;
  learners: number;
  resolved: number;
  conflicts: number;
  bySource: Record<string, number>;
}

/**
 * Rebuilds learning_roi.learner_identities and identity_conflicts from staging, inside `tx`. With
 * `parallel` (the warehouse pool), the heavy work runs on extra connections at once
 * (identity-partitions.ts); the results reach the real tables in `tx` either way.
 */
export async function resolveLearners(
  tx: PoolClient,
  job: string,
  date: string,
  opts: { parallel?: Pool } = {},
): Promise<IdentityCounts> {
  // Serialises rebuilds (backfill children run this stage for several dates at once); the scratch
  // tables are shared, so this lock also keeps two rebuilds out of each other's partitions.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('learning-roi:identities'))`);
  // Sorts and hashes over millions of e-mails stay in memory instead of spilling to disk.
  await tx.query(`SET LOCAL work_mem = '256MB'`);
  await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date = $2', [job, date]);

  const partitions = await resolvePartitions(tx, opts.parallel);

  const read = await tx.query<{ emails: number; signups: number }>(
    `SELECT (SELECT count(*) FROM staging.kusto_user_emails WHERE run_key = ${LATEST_SNAPSHOT('user_emails')})::int
              AS emails,
            (SELECT count(*) FROM staging.kusto_user_signups WHERE run_key = ${LATEST_SNAPSHOT('user_signups')})::int
              AS signups`,
  );
  const rejected = await tx.query(
    `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
     SELECT $1, $2, reason, raw FROM learning_roi.identity_work_claims WHERE reason IS NOT NULL`,
    [job, date],
  );

  await tx.query('TRUNCATE learning_roi.learner_identities, learning_roi.identity_conflicts');
  // A bulk rebuild: the indexes are built once after the load instead of maintained row by row
  // (measured: about a quarter of the stage's CPU at 1M learners). TRUNCATE already holds the
  // table's exclusive lock, and a failure rolls the DDL back with everything else.
  await tx.query('ALTER TABLE learning_roi.learner_identities DROP CONSTRAINT learner_identities_pkey');
  await tx.query('DROP INDEX learning_roi.learner_identities_dotcom');
  const loaded = await tx.query(`INSERT INTO learning_roi.learner_identities (email, dotcom_id, resolved_by,
      candidate_count, has_conflict)
    SELECT email, dotcom_id, resolved_by, candidate_count, has_conflict FROM learning_roi.identity_work_learners`);
  const conflicts = await tx.query(`INSERT INTO learning_roi.identity_conflicts (email, chosen_dotcom_id,
      chosen_source, candidates)
    SELECT email, chosen_dotcom_id, chosen_source, candidates FROM learning_roi.identity_work_conflicts`);
  await tx.query(`SET LOCAL maintenance_work_mem = '512MB'`);
  await tx.query(
    'ALTER TABLE learning_roi.learner_identities ADD CONSTRAINT learner_identities_pkey PRIMARY KEY (email)',
  );
  await tx.query('CREATE INDEX learner_identities_dotcom ON learning_roi.learner_identities (dotcom_id)');
  await tx.query('ANALYZE learning_roi.learner_identities');
  // The scratch rows go with this transaction's commit (a rollback keeps them until the next run).
  await tx.query(`TRUNCATE ${WORK_TABLES.join(', ')}`);

  const bySource: Record<string, number> = {};
  const exam: Record<string, number> = {};
  let valid = 0;
  for (const part of partitions) {
    for (const [k, n] of Object.entries(part.bySource)) bySource[k] = (bySource[k] ?? 0) + n;
    for (const [k, n] of Object.entries(part.examRows)) exam[k] = (exam[k] ?? 0) + n;
    valid += part.validIdentityRows;
  }
  const learners = Object.values(bySource).reduce((s, n) => s + n, 0);
  if (learners !== loaded.rowCount)
    throw new Error(`reconciliation failed: partitions resolved ${learners} learners, ${loaded.rowCount} loaded`);
  const identityRows = read.rows[0]!.emails + read.rows[0]!.signups;
  const bad = rejected.rowCount ?? 0;
  // read = loaded + rejected: every identity row either became a claim (on a learner or not) or a reject.
  if (identityRows !== valid + bad) {
    throw new Error(`reconciliation failed: read ${identityRows} identity rows ≠ valid ${valid} + rejected ${bad}`);
  }
  const examRows = accountExamRows(exam);
  return {
    identityRows,
    rejected: bad,
    examRows,
    learners,
    resolved: learners - (bySource.unresolved ?? 0),
    conflicts: conflicts.rowCount ?? 0,
    bySource: Object.fromEntries(Object.entries(bySource).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Where every exam row went: to a resolved learner, an unresolved one, or a reject (with its reason). */
function accountExamRows(outcomes: Record<string, number>): ExamRowAccount {
  const account: ExamRowAccount = { read: 0, resolved: 0, unresolved: 0, rejected: 0, rejectedByReason: {} };
  for (const [outcome, n] of Object.entries(outcomes).sort(([a], [b]) => a.localeCompare(b))) {
    account.read += n;
    if (outcome === 'resolved') account.resolved += n;
    else if (outcome === 'unresolved') account.unresolved += n;
    else {
      account.rejected += n;
      account.rejectedByReason[outcome] = n;
    }
  }
  return account;
}

export function createLearnerIdentityActivities({ warehouse }: ActivityDeps) {
  return {
    async resolveLearnerIdentities(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const c = await resolveLearners(tx, input.nodeId, date, { parallel: warehouse });
          return {
            processed: c.identityRows,
            inserted: c.learners,
            rejected: c.rejected,
            detail: {
              table: 'learning_roi.learner_identities',
              learners: c.learners,
              resolved: c.resolved,
              resolutionRate: c.learners ? Math.round((c.resolved / c.learners) * 10_000) / 10_000 : 0,
              conflicts: c.conflicts,
              examRowsRead: c.examRows.read,
              examRowsResolved: c.examRows.resolved,
              examRowsUnresolved: c.examRows.unresolved,
              examRowsRejected: c.examRows.rejected,
              ...Object.fromEntries(
                Object.entries(c.examRows.rejectedByReason).map(([reason, n]) => [`examRowsRejected: ${reason}`, n]),
              ),
              ...Object.fromEntries(Object.entries(c.bySource).map(([k, v]) => [`by_${k}`, v])),
            },
          };
        },
      );
    },
  };
}
