import path from 'node:path';
import { writeFileAtomic } from '../../connectors/files.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';

export function createDashboardLoadActivities({ warehouse, outputDir }: ActivityDeps) {
  return {
    /** Load stage: the day's stats as one dashboard JSON file, written atomically. */
    async loadSampleDashboard(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const { rows } = await tx.query(
            `SELECT exam_code, attempts, passes, pass_rate::float8 AS pass_rate, avg_score::float8 AS avg_score,
             resolved_users
             FROM mart.sample_daily_exam_stats WHERE target_date = $1 ORDER BY exam_code`,
            [date],
          );
          const file = path.join(outputDir, 'dashboard', 'daily_exam_stats', `${date}.json`);
          await writeFileAtomic(file, JSON.stringify({ date, exams: rows }, null, 2) + '\n');
          return { processed: rows.length, inserted: rows.length, detail: { file } };
        },
      );
    },
  };
}
