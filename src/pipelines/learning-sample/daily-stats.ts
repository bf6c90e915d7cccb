import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';

export function createSampleAggregateActivities({ warehouse }: ActivityDeps) {
  return {
    async aggregateSampleDaily(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const deleted = await tx.query('DELETE FROM mart.sample_daily_exam_stats WHERE target_date = $1', [date]);
          const read = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM mart.sample_exam_facts WHERE target_date = $1',
            [date],
          );
          const ins = await tx.query(
            `INSERT INTO mart.sample_daily_exam_stats (target_date, exam_code, attempts, passes, pass_rate, avg_score,
                resolved_users)
           SELECT target_date, exam_code, count(*), count(*) FILTER (WHERE passed),
                  round(count(*) FILTER (WHERE passed)::numeric / count(*), 4), round(avg(score), 2),
                  count(DISTINCT user_id) FILTER (WHERE user_id <> 0)
             FROM mart.sample_exam_facts WHERE target_date = $1 GROUP BY target_date, exam_code`,
            [date],
          );
          return { processed: read.rows[0]!.n, inserted: ins.rowCount ?? 0, deleted: deleted.rowCount ?? 0 };
        },
      );
    },
  };
}
