// Identity-resolve stage: email → user id in SQL inside the warehouse. Emails are normalised
// (trim, lower-case); a verified email decides first, an unverified one second, the exam
// record's own id third; otherwise user id 0. Invalid rows go to etl_rejects with a reason.
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';

const REJECT_REASON = `CASE
    WHEN nullif(trim(s.email), '') IS NULL THEN 'missing email'
    WHEN s.exam_code IS NULL THEN 'missing exam code'
    WHEN s.score IS NULL OR s.score < 0 OR s.score > 100 THEN 'score out of range 0..100'
    WHEN s.taken_at IS NULL THEN 'missing taken_at'
  END`;

export function createSampleIdentityActivities({ warehouse }: ActivityDeps) {
  return {
    async resolveSampleIdentities(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      const job = input.nodeId;
      return runLedgeredJob(
        warehouse,
        { jobName: job, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const deleted = await tx.query('DELETE FROM mart.sample_exam_facts WHERE target_date = $1', [date]);
          await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date = $2', [job, date]);
          const read = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM staging.sample_exam_results WHERE target_date = $1',
            [date],
          );
          const rejected = await tx.query(
            `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
           SELECT $1, $2, r.reason, to_jsonb(s) FROM staging.sample_exam_results s
             CROSS JOIN LATERAL (SELECT ${REJECT_REASON} AS reason) r
            WHERE s.target_date = $2 AND r.reason IS NOT NULL`,
            [job, date],
          );
          const inserted = await tx.query(
            `WITH candidates AS (
             SELECT lower(trim(email)) AS email, user_id, verified FROM staging.sample_user_emails),
           decided AS (
             SELECT DISTINCT ON (email) email, user_id,
                    CASE WHEN verified THEN 'verified_email' ELSE 'unverified_email' END AS resolved_by
               FROM candidates ORDER BY email, verified DESC, user_id)
           INSERT INTO mart.sample_exam_facts (target_date, result_id, email, user_id, resolved_by, exam_code, score,
           passed, taken_at)
           SELECT s.target_date, s.result_id, lower(trim(s.email)),
                  COALESCE(d.user_id, nullif(s.source_user_id, 0), 0),
                  COALESCE(d.resolved_by, CASE WHEN s.source_user_id > 0 THEN 'exam_record' ELSE 'unresolved' END),
                  s.exam_code, s.score, s.passed, s.taken_at
             FROM staging.sample_exam_results s
             LEFT JOIN decided d ON d.email = lower(trim(s.email))
            WHERE s.target_date = $1 AND (${REJECT_REASON}) IS NULL`,
            [date],
          );
          const n = read.rows[0]!.n;
          const loaded = inserted.rowCount ?? 0;
          const bad = rejected.rowCount ?? 0;
          if (n !== loaded + bad)
            throw new Error(`reconciliation failed: read ${n} ≠ loaded ${loaded} + rejected ${bad}`);
          return {
            processed: n,
            inserted: loaded,
            rejected: bad,
            deleted: deleted.rowCount ?? 0,
            detail: { table: 'mart.sample_exam_facts' },
          };
        },
      );
    },
  };
}
