// The GitHub CSV files of the seed's data/ folder — copilot_daily, copilot_languages,
// github_activity, skills_enrollments, skills_courses — written beside the learning-ROI files,
// each streamed in keyset-ordered batches (memory flat however many events), through the shared
// CSV encoder (formula cells neutralised), 0640, atomically, recorded in etl_output_files and
// listed in sync_status.json.
import type pg from 'pg';
import { writeCsvAtomic } from '../../connectors/csv.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { dataFilesDir, recordOutputFile, refreshSyncStatusFiles } from '../../runtime/output-files.js';
import type { NodeInput, NodeResult } from '../types.js';

interface GithubCsv {
  file: string;
  columns: string[];
  /** SELECT of `columns` then the key columns, with `$KEY` where the keyset condition goes. */
  select: string;
  key: string[];
}

/** Keyset pagination: `WHERE (k1, k2) > ($1, $2)` on the output order, never OFFSET. */
export const GITHUB_CSVS: GithubCsv[] = [
  {
    file: 'copilot_daily.csv',
    columns: [
      'org',
      'date',
      'source',
      'active_users',
      'weekly_active_users',
      'monthly_active_users',
      'engaged_users',
      'code_suggestions',
      'code_acceptances',
      'acceptance_rate',
      'lines_suggested',
      'lines_accepted',
      'lines_deleted',
      'chat_interactions',
    ],
    select: `SELECT org, to_char(day, 'YYYY-MM-DD'), metrics_source, total_active_users, weekly_active_users,
                    monthly_active_users, total_engaged_users, code_suggestions, code_acceptances,
                    round(code_acceptances::numeric / nullif(code_suggestions, 0), 4),
                    lines_suggested, lines_accepted, lines_deleted, ide_chats, org AS k1, day AS k2
               FROM github.copilot_daily WHERE $KEY ORDER BY org, day`,
    key: ['org', 'day'],
  },
  {
    file: 'copilot_languages.csv',
    columns: [
      'org',
      'date',
      'language',
      'engaged_users',
      'code_suggestions',
      'code_acceptances',
      'lines_suggested',
      'lines_accepted',
    ],
    select: `SELECT org, to_char(day, 'YYYY-MM-DD'), language, engaged_users, code_suggestions, code_acceptances,
                    lines_suggested, lines_accepted, org AS k1, day AS k2, language AS k3
               FROM github.copilot_languages WHERE $KEY ORDER BY org, day, language`,
    key: ['org', 'day', 'language'],
  },
  {
    file: 'github_activity.csv',
    columns: ['event_id', 'username', 'type', 'repo', 'action', 'public', 'created_at'],
    select: `SELECT event_id, username, type, repo_name, action, public, created_at, event_id AS k1
               FROM github.activity WHERE $KEY ORDER BY event_id`,
    key: ['event_id'],
  },
  {
    file: 'skills_enrollments.csv',
    columns: ['fork_id', 'course', 'username', 'user_id', 'enrolled_at', 'updated_at'],
    select: `SELECT fork_id, course_name, owner_login, owner_id, created_at, updated_at, fork_id AS k1
               FROM github.skills_enrollments WHERE $KEY ORDER BY fork_id`,
    key: ['fork_id'],
  },
  {
    file: 'skills_courses.csv',
    columns: [
      'repo_id',
      'course',
      'full_name',
      'description',
      'url',
      'forks_count',
      'enrollments',
      'created_at',
      'updated_at',
    ],
    select: `SELECT c.repo_id, c.name, c.full_name, c.description, c.html_url, c.forks_count,
                    (SELECT count(*) FROM github.skills_enrollments e WHERE e.course_repo_id = c.repo_id),
                    c.created_at, c.updated_at, c.repo_id AS k1
               FROM github.skills_courses c WHERE $KEY ORDER BY c.repo_id`,
    key: ['repo_id'],
  },
];

const BATCH = 5000;

/** The rows of one CSV, fetched BATCH at a time after the last key seen. */
async function* csvRows(tx: pg.PoolClient, csv: GithubCsv): AsyncGenerator<unknown[]> {
  const keyCols = csv.key.map((_, i) => `k${i + 1}`);
  const qualified = csv.file === 'skills_courses.csv' ? csv.key.map((k) => `c.${k}`) : csv.key;
  let after: unknown[] | undefined;
  for (;;) {
    const cond = after ? `(${qualified.join(', ')}) > (${after.map((_, i) => `$${i + 1}`).join(', ')})` : 'true';
    const { rows } = await tx.query({
      text: `${csv.select.replace('$KEY', cond)} LIMIT ${BATCH}`,
      values: after ?? [],
      rowMode: 'array',
    });
    for (const r of rows as unknown[][]) yield r.slice(0, csv.columns.length);
    if (rows.length < BATCH) return;
    const last = rows[rows.length - 1] as unknown[];
    after = last.slice(csv.columns.length, csv.columns.length + keyCols.length);
  }
}

export function createGithubExportActivities({ warehouse, outputDir, config }: ActivityDeps) {
  return {
    /** The five GitHub CSVs, from what the github schema holds after the night's syncs. */
    async exportGithubFiles(input: NodeInput): Promise<NodeResult> {
      const dir = dataFilesDir(outputDir);
      const result = await runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force },
        async (tx) => {
          await tx.query(`SET LOCAL TIME ZONE 'UTC'`);
          let total = 0;
          const perFile: Record<string, number> = {};
          for (const csv of GITHUB_CSVS) {
            const rows = await writeCsvAtomic(`${dir}/${csv.file}`, csv.columns, csvRows(tx, csv), {
              neutralise: config.outputs.neutraliseFormulas,
            });
            await recordOutputFile(tx, {
              file: csv.file,
              dir,
              pipeline: input.pipeline,
              jobName: input.nodeId,
              targetDate: input.targetDate,
              rows,
            });
            perFile[csv.file] = rows;
            total += rows;
          }
          return { processed: total, inserted: total, detail: { dir, files: GITHUB_CSVS.length, ...perFile } };
        },
      );
      if (!result.skipped) await refreshSyncStatusFiles(warehouse, outputDir);
      return result;
    },
  };
}
