// Load/export stage of the learning ROI pipeline: the five datasets as CSV files (streamed with
// COPY … TO STDOUT WITH CSV HEADER into a temporary file, then renamed) and the dashboard
// aggregates as JSON files (written atomically), under <outputDir>/learning-roi/. A dashboard
// reading the folder sees a complete old file or a complete new one, never half of one.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { csvSafeSql } from '../../connectors/csv.js';
import { OUTPUT_DIR_MODE, OUTPUT_FILE_MODE, writeFileAtomic } from '../../connectors/files.js';
import type { PoolClient } from '../../connectors/postgres.js';
import type { NodeInput, NodeResult } from '../types.js';
import { BEFORE_AFTER_DAYS } from './datasets.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';
import { DATASETS, roiOutputDir, writeSyncStatus, type DatasetName } from './status.js';

const D = (col: string) => `to_char(${col}, 'YYYY-MM-DD') AS ${col}`;
const B = (col: string) => `${col}::text AS ${col}`;

/**
 * The SELECT behind each CSV: explicit columns and order, ISO dates, true/false booleans, text cells that cannot
 * become formulas.
 */
export function csvQueries(neutralise: boolean): Record<DatasetName, string> {
  const T = (col: string) => csvSafeSql(col, neutralise);
  const userColumns = `${T('email')}, dotcom_id, ${T('resolved_by')}, ${B('is_certified')}, certification_count,
      ${T('certifications')}, exams_taken, exams_passed,
      ${D('first_exam_date')}, ${D('last_exam_date')}, ${D('first_certified_date')},
      ${T('first_certified_fiscal_year')}`;
  return {
    certified_users: `SELECT ${userColumns}
    FROM learning_roi.certified_users ORDER BY email`,
    unified_users: `SELECT ${userColumns},
      copilot_events, copilot_days, actions_events, security_events, total_events, active_days, learn_views,
        skills_views, docs_views
    FROM learning_roi.unified_users ORDER BY email`,
    individual_exams: `SELECT ${T('exam_source')}, ${T('attempt_id')}, ${T('email')}, dotcom_id, ${T('exam_code')},
      ${T('exam_name')},
      to_char(exam_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS exam_date, ${T('fiscal_year')},
      ${B('passed')}, score, ${T('score_method')}, correct_answers, incorrect_answers
    FROM learning_roi.individual_exams ORDER BY 7, individual_exams.exam_source, individual_exams.attempt_id`,
    product_usage: `SELECT dotcom_id, ${B('is_certified')}, copilot_events, copilot_days, actions_events, actions_days,
      security_events, security_days,
      total_events, active_days, ${D('first_active_date')}, ${D('last_active_date')}
    FROM learning_roi.product_usage ORDER BY dotcom_id`,
    learning_activity: `SELECT dotcom_id, learn_views, skills_views, docs_views, total_views, ${D('first_view_date')},
    ${D('last_view_date')}
    FROM learning_roi.learning_activity ORDER BY dotcom_id`,
  };
}

export const CSV_QUERIES = csvQueries(true);

const JSON_QUERIES: Record<string, string> = {
  pass_rate_by_exam_month: `SELECT exam_code, to_char(month, 'YYYY-MM') AS month, fiscal_year, attempts, passes,
      pass_rate::float8 AS pass_rate, avg_score::float8 AS avg_score
    FROM learning_roi.agg_pass_rate_by_exam_month ORDER BY month, exam_code`,
  certified_learners_by_fiscal_year: `SELECT fiscal_year, learners_tested, exams_taken, exams_passed,
      pass_rate::float8 AS pass_rate,
      newly_certified_learners, cumulative_certified_learners
    FROM learning_roi.agg_certified_by_fiscal_year ORDER BY fiscal_year`,
  usage_certified_vs_not_yet_certified: `SELECT segment, accounts, accounts_with_usage,
      share_with_usage::float8 AS share_with_usage,
      avg_copilot_events::float8 AS avg_copilot_events, avg_copilot_days::float8 AS avg_copilot_days,
      avg_actions_events::float8 AS avg_actions_events,
      avg_security_events::float8 AS avg_security_events, avg_total_events::float8 AS avg_total_events
    FROM learning_roi.agg_usage_by_certification ORDER BY segment`,
  usage_before_after_certification: `SELECT product, window_days, accounts, events_before::float8 AS events_before,
      events_after::float8 AS events_after,
      active_days_before, active_days_after, avg_events_before::float8 AS avg_events_before,
      avg_events_after::float8 AS avg_events_after,
      change_pct::float8 AS change_pct
    FROM learning_roi.agg_usage_before_after ORDER BY product = 'all', product`,
};

const JSON_NOTES: Record<string, string> = {
  pass_rate_by_exam_month:
    'Exam attempts and passes per exam code and calendar month (UTC); avg_score over attempts with a score.',
  certified_learners_by_fiscal_year:
    'Per Microsoft fiscal year (FY26 = Jul 2025 – Jun 2026); ' +
    'a learner is newly certified in the year of their first pass.',
  usage_certified_vs_not_yet_certified:
    'GitHub accounts of resolved learners; averages include accounts without usage (as zero).',
  usage_before_after_certification:
    `Certified accounts' product events in the ${BEFORE_AFTER_DAYS} days before vs after their first ` +
    'certification.',
};

/** Streams one dataset to <dir>/<name>.csv via a temporary file in the same folder; returns the rows written. */
export async function exportCsv(
  tx: PoolClient,
  dir: string,
  name: DatasetName,
  opts: { neutraliseFormulas?: boolean } = {},
): Promise<{ file: string; rows: number }> {
  const file = path.join(dir, `${name}.csv`);
  const tmp = path.join(dir, `.${name}.csv.${process.pid}.${Date.now()}.tmp`);
  const sql = csvQueries(opts.neutraliseFormulas !== false)[name];
  const out = tx.query(copyTo(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, HEADER)`));
  try {
    // Personal data: readable by the owner and its group, never by everyone.
    await pipeline(out, createWriteStream(tmp, { mode: OUTPUT_FILE_MODE }));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { file, rows: Number(out.rowCount ?? 0) };
}

export function createLearningRoiExportActivities({ warehouse, outputDir, config }: ActivityDeps) {
  return {
    async exportLearningRoiFiles(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      const dir = roiOutputDir(outputDir);
      const result = await runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          // The same lock as the rebuild: the files are one consistent snapshot.
          await tx.query(`SELECT pg_advisory_xact_lock(hashtext('learning-roi:datasets'))`);
          await tx.query(`SET LOCAL TIME ZONE 'UTC'`);
          await mkdir(path.join(dir, 'aggregated'), { recursive: true, mode: OUTPUT_DIR_MODE });
          let total = 0;
          for (const name of DATASETS) {
            const t0 = Date.now();
            const { file, rows } = await exportCsv(tx, dir, name, {
              neutraliseFormulas: config.outputs.neutraliseFormulas,
            });
            total += rows;
            const built = await tx.query(
              `UPDATE learning_roi.dataset_syncs SET status = 'success', export_ms = $2, file = $3, synced_at = now(),
              rows = $4
              WHERE id = (SELECT max(id) FROM learning_roi.dataset_syncs WHERE dataset = $1 AND status = 'built')`,
              [name, Date.now() - t0, path.relative(dir, file), rows],
            );
            if (!built.rowCount) {
              // Exported without a build in this run (e.g. run-job export alone): still a sync of what the tables hold.
              await tx.query(
                `INSERT INTO learning_roi.dataset_syncs
                   (dataset, target_date, status, rows, export_ms, source, file, synced_at)
               VALUES ($1, $2, 'success', $3, $4,
                       coalesce((SELECT source FROM learning_roi.dataset_syncs
                                  WHERE dataset = $1 ORDER BY id DESC LIMIT 1), 'warehouse'),
                       $5, now())`,
                [name, date, rows, Date.now() - t0, path.relative(dir, file)],
              );
            }
          }
          const generatedAt = new Date().toISOString();
          for (const [name, sql] of Object.entries(JSON_QUERIES)) {
            const { rows } = await tx.query(sql);
            await writeFileAtomic(
              path.join(dir, 'aggregated', `${name}.json`),
              JSON.stringify(
                { name, target_date: date, generated_at: generatedAt, note: JSON_NOTES[name], rows },
                null,
                2,
              ) + '\n',
            );
          }
          return {
            processed: total,
            inserted: total,
            detail: { dir, csvFiles: DATASETS.length, jsonFiles: Object.keys(JSON_QUERIES).length },
          };
        },
      );
      if (!result.skipped) await writeSyncStatus(warehouse, outputDir);
      return result;
    },
  };
}
