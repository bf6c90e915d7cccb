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
import type { PoolClient } from '../../connectors/postgres.js';

/** The e-mail snapshot of the latest extract run that finished (a half-loaded newer one is ignored). */
const LATEST_SNAPSHOT = (source: string) =>
  `(SELECT run_key FROM etl_kusto_runs WHERE source = '${source}' AND finished_at IS NOT NULL
     ORDER BY finished_at DESC LIMIT 1)`;

const EMAIL_REJECT = (emailCol: string, idCol: string) => `coalesce(
    learning_roi.email_problem(learning_roi.normalize_email(${emailCol})),
    CASE WHEN ${idCol} IS NULL OR ${idCol} <= 0 THEN 'missing or non-positive account id' END)`;

/** Every exam row with the learner its e-mail names, or why it names none. */
const EXAM_EMAILS = `
  SELECT learning_roi.normalize_email(email) AS email FROM staging.kusto_ace_exam_results
  UNION ALL
  SELECT learning_roi.normalize_email(candidate_email) FROM staging.kusto_pearson_exam_results`;

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

/** Rebuilds learning_roi.learner_identities and identity_conflicts from staging, inside `tx`. */
export async function resolveLearners(tx: PoolClient, job: string, date: string): Promise<IdentityCounts> {
  // Serialises rebuilds (backfill children run this stage for several dates at once).
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('learning-roi:identities'))`);
  // Sorts and hashes over millions of e-mails stay in memory instead of spilling to disk.
  await tx.query(`SET LOCAL work_mem = '256MB'`);
  await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date = $2', [job, date]);

  // Only valid e-mails become learners: over-long ones (RFC 5321 limits) never reach the btree index.
  await tx.query(`CREATE TEMP TABLE roi_learners ON COMMIT DROP AS
    SELECT DISTINCT email FROM (${EXAM_EMAILS}) x WHERE learning_roi.is_valid_email(email)`);
  await tx.query('ALTER TABLE roi_learners ADD PRIMARY KEY (email)');

  const emailsRead = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM staging.kusto_user_emails WHERE run_key = ${LATEST_SNAPSHOT('user_emails')}`,
  );
  const signupsRead = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM staging.kusto_user_signups WHERE run_key = ${LATEST_SNAPSHOT('user_signups')}`,
  );
  const rejected = await tx.query(
    `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
     SELECT $1, $2, reason, raw FROM (
       SELECT ${EMAIL_REJECT('s.email', 's.user_id')} AS reason,
         to_jsonb(s) - 'run_key' - 'partition_key' || '{"source":"user_emails"}' AS raw
         FROM staging.kusto_user_emails s WHERE s.run_key = ${LATEST_SNAPSHOT('user_emails')}
       UNION ALL
       SELECT ${EMAIL_REJECT('s.email', 's.actor_id')},
         to_jsonb(s) - 'run_key' - 'partition_key' || '{"source":"user_signups"}'
         FROM staging.kusto_user_signups s WHERE s.run_key = ${LATEST_SNAPSHOT('user_signups')}) r
     WHERE reason IS NOT NULL`,
    [job, date],
  );

  // Every claim on a learner, with its source's rank and the order that breaks ties inside a source.
  await tx.query(`CREATE TEMP TABLE roi_claims ON COMMIT DROP AS
    SELECT DISTINCT ON (email, dotcom_id, rank) email, dotcom_id, rank, source, pref1, pref2 FROM (
      SELECT learning_roi.normalize_email(s.email) AS email, s.user_id AS dotcom_id, 1 AS rank,
             'verified_email' AS source,
             CASE WHEN s.is_primary THEN 0 ELSE 1 END::float8 AS pref1,
               -coalesce(extract(epoch FROM s.updated_at), 0)::float8 AS pref2
        FROM staging.kusto_user_emails s
       WHERE s.run_key = ${LATEST_SNAPSHOT('user_emails')} AND s.verified IS TRUE AND s.user_id > 0
      UNION ALL
      SELECT learning_roi.normalize_email(s.email), s.actor_id, 2, 'signup', 0,
        -coalesce(extract(epoch FROM s.signup_at), 0)
        FROM staging.kusto_user_signups s
       WHERE s.run_key = ${LATEST_SNAPSHOT('user_signups')} AND s.actor_id > 0
      UNION ALL
      SELECT learning_roi.normalize_email(s.email), s.dotcomid, 3, 'exam_record', -count(*),
        -extract(epoch FROM max(s.exam_date))
        FROM staging.kusto_ace_exam_results s WHERE s.dotcomid > 0 GROUP BY 1, 2) c
    WHERE EXISTS (SELECT 1 FROM roi_learners l WHERE l.email = c.email)
    ORDER BY email, dotcom_id, rank, pref1, pref2`);
  await tx.query('CREATE INDEX ON roi_claims (email, rank, pref1, pref2, dotcom_id)');
  await tx.query('ANALYZE roi_claims');

  await tx.query('TRUNCATE learning_roi.learner_identities, learning_roi.identity_conflicts');
  // A bulk rebuild: the indexes are built once after the load instead of maintained row by row
  // (measured: about a quarter of the stage's CPU at 1M learners). TRUNCATE already holds the
  // table's exclusive lock, and a failure rolls the DDL back with everything else.
  await tx.query('ALTER TABLE learning_roi.learner_identities DROP CONSTRAINT learner_identities_pkey');
  await tx.query('DROP INDEX learning_roi.learner_identities_dotcom');
  await tx.query(`INSERT INTO learning_roi.learner_identities (email, dotcom_id, resolved_by, candidate_count,
    has_conflict)
    SELECT l.email, coalesce(d.dotcom_id, 0), coalesce(d.source, 'unresolved'), coalesce(n.ids, 0),
      coalesce(n.ids, 0) > 1
      FROM roi_learners l
      LEFT JOIN (SELECT DISTINCT ON (email) email, dotcom_id, source FROM roi_claims
        ORDER BY email, rank, pref1, pref2, dotcom_id) d USING (email)
      LEFT JOIN (SELECT email, count(DISTINCT dotcom_id)::int AS ids FROM roi_claims GROUP BY email) n USING (email)`);
  const conflicts =
    await tx.query(`INSERT INTO learning_roi.identity_conflicts (email, chosen_dotcom_id, chosen_source, candidates)
    SELECT i.email, i.dotcom_id, i.resolved_by,
           jsonb_agg(jsonb_build_object('dotcom_id', c.dotcom_id, 'source', c.source)
             ORDER BY c.rank, c.pref1, c.pref2, c.dotcom_id)
      FROM learning_roi.learner_identities i JOIN roi_claims c USING (email)
     WHERE i.has_conflict
     GROUP BY i.email, i.dotcom_id, i.resolved_by`);
  await tx.query(`SET LOCAL maintenance_work_mem = '512MB'`);
  await tx.query(
    'ALTER TABLE learning_roi.learner_identities ADD CONSTRAINT learner_identities_pkey PRIMARY KEY (email)',
  );
  await tx.query('CREATE INDEX learner_identities_dotcom ON learning_roi.learner_identities (dotcom_id)');
  await tx.query('ANALYZE learning_roi.learner_identities');

  const by = await tx.query<{ resolved_by: string; n: number }>(
    'SELECT resolved_by, count(*)::int AS n FROM learning_roi.learner_identities ' +
      'GROUP BY resolved_by ORDER BY resolved_by',
  );
  const bySource = Object.fromEntries(by.rows.map((r) => [r.resolved_by, r.n]));
  const learners = by.rows.reduce((s, r) => s + r.n, 0);
  const identityRows = emailsRead.rows[0]!.n + signupsRead.rows[0]!.n;
  const bad = rejected.rowCount ?? 0;
  // read = loaded + rejected: every identity row either became a claim (on a learner or not) or a reject.
  const valid = await tx.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM staging.kusto_user_emails s WHERE s.run_key = ${LATEST_SNAPSHOT('user_emails')}
      AND ${EMAIL_REJECT('s.email', 's.user_id')} IS NULL)::int
          + (SELECT count(*) FROM staging.kusto_user_signups s WHERE s.run_key = ${LATEST_SNAPSHOT('user_signups')}
            AND ${EMAIL_REJECT('s.email', 's.actor_id')} IS NULL)::int AS n`,
  );
  if (identityRows !== valid.rows[0]!.n + bad) {
    throw new Error(
      `reconciliation failed: read ${identityRows} identity rows ≠ valid ${valid.rows[0]!.n} + rejected ${bad}`,
    );
  }
  const examRows = await accountExamRows(tx);
  return {
    identityRows,
    rejected: bad,
    examRows,
    learners,
    resolved: learners - (bySource.unresolved ?? 0),
    conflicts: conflicts.rowCount ?? 0,
    bySource,
  };
}

/** Where every exam row went: to a resolved learner, an unresolved one, or a reject (with its reason). */
async function accountExamRows(tx: PoolClient): Promise<ExamRowAccount> {
  const { rows } = await tx.query<{ outcome: string; n: number }>(
    `SELECT coalesce(learning_roi.email_problem(x.email),
                     CASE WHEN i.dotcom_id > 0 THEN 'resolved' ELSE 'unresolved' END) AS outcome,
            count(*)::int AS n
       FROM (${EXAM_EMAILS}) x
       LEFT JOIN learning_roi.learner_identities i ON i.email = x.email AND learning_roi.is_valid_email(x.email)
      GROUP BY 1 ORDER BY 1`,
  );
  const account: ExamRowAccount = { read: 0, resolved: 0, unresolved: 0, rejected: 0, rejectedByReason: {} };
  for (const r of rows) {
    account.read += r.n;
    if (r.outcome === 'resolved') account.resolved += r.n;
    else if (r.outcome === 'unresolved') account.unresolved += r.n;
    else {
      account.rejected += r.n;
      account.rejectedByReason[r.outcome] = r.n;
    }
  }
  if (account.read !== account.resolved + account.unresolved + account.rejected)
    throw new Error(`reconciliation failed: exam rows read ${account.read} ≠ resolved + unresolved + rejected`);
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
          const c = await resolveLearners(tx, input.nodeId, date);
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
