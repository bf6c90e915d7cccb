// Extract stage of the learning-sample pipeline: COPY streams from the source database into
// warehouse staging, one target date's partition at a time (delete + insert in one transaction).
import { copyBetween, sqlLiteral } from '../../connectors/postgres.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';

const EXAM_COLUMNS = [
  'target_date',
  'result_id',
  'email',
  'exam_code',
  'score',
  'passed',
  'source_user_id',
  'taken_at',
  'updated_at',
];

export function createSampleExtractActivities({ warehouse, oltp }: ActivityDeps) {
  return {
    async extractSampleExams(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const del = await tx.query('DELETE FROM staging.sample_exam_results WHERE target_date = $1', [date]);
          const d = sqlLiteral(date);
          const copied = await copyBetween(
            oltp,
            `SELECT ${d}::date, id, email, exam_code, score, passed, source_user_id, taken_at, updated_at
             FROM sample_source.exam_results WHERE taken_at >= ${d}::date AND taken_at < ${d}::date + 1`,
            tx,
            'staging.sample_exam_results',
            EXAM_COLUMNS,
          );
          return {
            processed: copied,
            inserted: copied,
            deleted: del.rowCount ?? 0,
            detail: { table: 'staging.sample_exam_results' },
          };
        },
      );
    },

    async extractSampleUserEmails(input: NodeInput): Promise<NodeResult> {
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force },
        async (tx) => {
          const del = await tx.query('DELETE FROM staging.sample_user_emails');
          const copied = await copyBetween(
            oltp,
            'SELECT email, user_id, verified FROM sample_source.user_emails',
            tx,
            'staging.sample_user_emails',
            ['email', 'user_id', 'verified'],
          );
          return {
            processed: copied,
            inserted: copied,
            deleted: del.rowCount ?? 0,
            detail: { table: 'staging.sample_user_emails' },
          };
        },
      );
    },

    /**
     * Incremental: rows with updated_at >= the stored cursor. `>=` re-reads the boundary
     * timestamp so rows sharing it are never lost; the upsert on the key makes re-reads harmless.
     * The cursor moves in the same transaction as the rows it covers.
     */
    async syncSampleExamsIncremental(input: NodeInput): Promise<NodeResult> {
      const cursorName = 'sample_source.exam_results.updated_at';
      return runLedgeredJob(warehouse, { jobName: input.nodeId, pipeline: input.pipeline }, async (tx) => {
        const cur = await tx.query<{ value: string }>('SELECT value FROM etl_cursors WHERE name = $1 FOR UPDATE', [
          cursorName,
        ]);
        const since = cur.rows[0]?.value ?? '1970-01-01T00:00:00Z';
        await tx.query(`CREATE TEMP TABLE incoming (LIKE mart.sample_exam_results_live) ON COMMIT DROP`);
        const copied = await copyBetween(
          oltp,
          `SELECT id, email, exam_code, score, passed, taken_at, updated_at FROM sample_source.exam_results
            WHERE updated_at >= ${sqlLiteral(since)}::timestamptz`,
          tx,
          'incoming',
          ['result_id', 'email', 'exam_code', 'score', 'passed', 'taken_at', 'updated_at'],
        );
        const up = await tx.query<{ inserted: boolean }>(
          `INSERT INTO mart.sample_exam_results_live SELECT * FROM incoming
           ON CONFLICT (result_id) DO UPDATE SET email = EXCLUDED.email, exam_code = EXCLUDED.exam_code,
             score = EXCLUDED.score,
             passed = EXCLUDED.passed, taken_at = EXCLUDED.taken_at, updated_at = EXCLUDED.updated_at
           WHERE mart.sample_exam_results_live.updated_at IS DISTINCT FROM EXCLUDED.updated_at
           RETURNING (xmax = 0) AS inserted`,
        );
        const inserted = up.rows.filter((r) => r.inserted).length;
        const max = await tx.query<{ max: string | null }>(
          `SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS max FROM incoming`,
        );
        const next = max.rows[0]?.max ?? since;
        await tx.query(
          `INSERT INTO etl_cursors (name, value, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [cursorName, next],
        );
        return { processed: copied, inserted, updated: up.rows.length - inserted, detail: { cursor: next } };
      });
    },
  };
}
