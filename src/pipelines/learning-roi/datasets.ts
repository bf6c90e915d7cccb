// Aggregate stage of the learning ROI pipeline: the five datasets and the dashboard aggregates,
// rebuilt in SQL from staging and the resolved identities in one transaction.
//
// individual_exams unites both exam schemas: FY22-25 rows (ace.exam_results) get a score computed
// from their answers, round(100 × correct / (correct + incorrect), 1), or none when no answers were
// recorded; FY26 rows (ACE.pearson_exam_results) carry Pearson's score as reported. Every row gets
// its Microsoft fiscal year (FY26 = July 2025 – June 2026). Rows that cannot be trusted go to
// etl_rejects with a reason, and read = loaded + rejected is checked.
import type { Config } from '../../config.js';
import type { PoolClient } from '../../connectors/postgres.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { kustoOriginLabel } from './clusters.js';
import { KUSTO_SOURCES } from './sources.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { DATASET_SOURCES, DATASETS, type DatasetName } from './status.js';
import { requireDate } from '../../runtime/require-date.js';

/** Days compared on each side of a learner's first certification. */
export const BEFORE_AFTER_DAYS = 90;

// The raw row is kept only for rejects: a copy of every row would make this temp table several
// times larger than the data it checks.
const EXAM_ROWS = `
  SELECT 'ace'::text AS exam_source, nullif(btrim(s.exam_id), '') AS attempt_id,
         learning_roi.normalize_email(s.email) AS email,
         nullif(btrim(s.exam_code), '') AS exam_code, s.exam_name, s.exam_date, s.passed,
         CASE WHEN s.correct_answers >= 0 AND s.incorrect_answers >= 0 AND s.correct_answers + s.incorrect_answers > 0
              THEN round(100.0 * s.correct_answers / (s.correct_answers + s.incorrect_answers), 1) END AS score,
         s.correct_answers, s.incorrect_answers, r.reason,
         CASE WHEN r.reason IS NOT NULL THEN to_jsonb(s) || '{"source":"ace_exam_results"}' END AS raw
    FROM staging.kusto_ace_exam_results s
    CROSS JOIN LATERAL (SELECT
         CASE WHEN nullif(btrim(s.exam_id), '') IS NULL THEN 'missing exam id'
              WHEN NOT learning_roi.is_valid_email(learning_roi.normalize_email(s.email))
                THEN learning_roi.email_problem(learning_roi.normalize_email(s.email))
              WHEN nullif(btrim(s.exam_code), '') IS NULL THEN 'missing exam code'
              WHEN s.passed IS NULL THEN 'missing pass/fail'
              WHEN s.correct_answers < 0 OR s.incorrect_answers < 0 THEN 'negative answer count'
              WHEN s.correct_answers > 1000 OR s.incorrect_answers > 1000 THEN 'answer count out of range'
         END AS reason) r
  UNION ALL
  SELECT 'pearson', nullif(btrim(s.registration_id), ''), learning_roi.normalize_email(s.candidate_email),
         nullif(btrim(s.exam_code), ''), s.exam_title, s.exam_date,
         CASE WHEN lower(s.result) IN ('pass', 'passed') THEN true
              WHEN lower(s.result) IN ('fail', 'failed') THEN false
              WHEN s.score IS NOT NULL AND s.passing_score IS NOT NULL THEN s.score >= s.passing_score END,
         -- NaN/±Infinity (real Kusto values) are rejected below; keep them out of numeric,
         -- which before Postgres 14 has no infinity.
         round(CASE WHEN s.score BETWEEN -1e300 AND 1e300 THEN s.score END::numeric, 1), NULL, NULL, r.reason,
         CASE WHEN r.reason IS NOT NULL THEN to_jsonb(s) || '{"source":"pearson_exam_results"}' END
    FROM staging.kusto_pearson_exam_results s
    CROSS JOIN LATERAL (SELECT
         CASE WHEN nullif(btrim(s.registration_id), '') IS NULL THEN 'missing registration id'
              WHEN NOT learning_roi.is_valid_email(learning_roi.normalize_email(s.candidate_email))
                THEN learning_roi.email_problem(learning_roi.normalize_email(s.candidate_email))
              WHEN nullif(btrim(s.exam_code), '') IS NULL THEN 'missing exam code'
              -- NaN sorts above every number: rejected here too
              WHEN s.score < 0 OR s.score > 100 THEN 'score outside 0..100'
              WHEN lower(coalesce(s.result, '')) NOT IN ('pass', 'passed', 'fail', 'failed')
                AND (s.score IS NULL OR s.passing_score IS NULL)
                THEN 'missing result'
         END AS reason) r`;

interface Step {
  dataset?: DatasetName;
  sql: string;
}

const STEPS: Step[] = [
  {
    dataset: 'individual_exams',
    sql: `INSERT INTO learning_roi.individual_exams (exam_source, attempt_id, email, dotcom_id, exam_code, exam_name,
            exam_date, fiscal_year,
            passed, score, score_method, correct_answers, incorrect_answers)
          SELECT r.exam_source, r.attempt_id, r.email, coalesce(i.dotcom_id, 0), r.exam_code, r.exam_name, r.exam_date,
                 learning_roi.fiscal_year(r.exam_date), r.passed, r.score,
                 CASE WHEN r.score IS NULL THEN NULL WHEN r.exam_source = 'ace' THEN 'computed' ELSE 'reported' END,
                 r.correct_answers, r.incorrect_answers
            FROM roi_exam_rows r LEFT JOIN learning_roi.learner_identities i USING (email)
           WHERE r.reason IS NULL
           -- One row per attempt: of a repeated id the latest is inserted first and kept (see DUPLICATES).
           ORDER BY r.exam_source, r.attempt_id, r.exam_date DESC, r.email
          ON CONFLICT (exam_source, attempt_id) DO NOTHING`,
  },
  // Built once after the load (a sort) rather than row by row during it: several times faster.
  { sql: 'CREATE INDEX individual_exams_email ON learning_roi.individual_exams (email)' },
  {
    dataset: 'certified_users',
    sql: `INSERT INTO learning_roi.certified_users
          SELECT e.email, coalesce(i.dotcom_id, 0), coalesce(i.resolved_by, 'unresolved'), bool_or(e.passed),
                 count(DISTINCT e.exam_code) FILTER (WHERE e.passed),
                 coalesce(string_agg(DISTINCT e.exam_code, ';' ORDER BY e.exam_code) FILTER (WHERE e.passed), ''),
                 count(*), count(*) FILTER (WHERE e.passed), min(e.exam_date)::date, max(e.exam_date)::date,
                 (min(e.exam_date) FILTER (WHERE e.passed))::date,
                   learning_roi.fiscal_year(min(e.exam_date) FILTER (WHERE e.passed))
            FROM learning_roi.individual_exams e LEFT JOIN learning_roi.learner_identities i USING (email)
           GROUP BY e.email, i.dotcom_id, i.resolved_by`,
  },
  {
    sql: `CREATE TEMP TABLE roi_accounts ON COMMIT DROP AS
          SELECT dotcom_id, bool_or(is_certified) AS is_certified, min(first_certified_date) AS first_certified_date
            FROM learning_roi.certified_users WHERE dotcom_id > 0 GROUP BY dotcom_id;
          ALTER TABLE roi_accounts ADD PRIMARY KEY (dotcom_id);
          CREATE TEMP TABLE roi_usage_days ON COMMIT DROP AS
          SELECT u.user_id AS dotcom_id, u.product, u.day::date AS day, sum(u.events) AS events
            FROM staging.kusto_product_usage u JOIN roi_accounts a ON a.dotcom_id = u.user_id
           WHERE u.product IN ('copilot', 'actions', 'security') AND u.events >= 0
           GROUP BY 1, 2, 3;
          ANALYZE roi_accounts;
          ANALYZE roi_usage_days`,
  },
  {
    dataset: 'product_usage',
    sql: `INSERT INTO learning_roi.product_usage
          SELECT a.dotcom_id, a.is_certified,
                 coalesce(sum(u.events) FILTER (WHERE u.product = 'copilot'), 0),
                 count(DISTINCT u.day) FILTER (WHERE u.product = 'copilot'),
                 coalesce(sum(u.events) FILTER (WHERE u.product = 'actions'), 0),
                 count(DISTINCT u.day) FILTER (WHERE u.product = 'actions'),
                 coalesce(sum(u.events) FILTER (WHERE u.product = 'security'), 0),
                 count(DISTINCT u.day) FILTER (WHERE u.product = 'security'),
                 sum(u.events), count(DISTINCT u.day), min(u.day), max(u.day)
            FROM roi_usage_days u JOIN roi_accounts a USING (dotcom_id)
           GROUP BY a.dotcom_id, a.is_certified`,
  },
  {
    dataset: 'learning_activity',
    sql: `INSERT INTO learning_roi.learning_activity
          SELECT v.actor_id, coalesce(sum(v.views) FILTER (WHERE v.site = 'learn'), 0),
                 coalesce(sum(v.views) FILTER (WHERE v.site = 'skills'), 0),
                 coalesce(sum(v.views) FILTER (WHERE v.site = 'docs'), 0), sum(v.views), min(v.first_view_at)::date,
                   max(coalesce(v.last_view_at, v.first_view_at))::date
            FROM staging.kusto_page_views v JOIN roi_accounts a ON a.dotcom_id = v.actor_id
           WHERE v.site IN ('learn', 'skills', 'docs') AND v.views >= 0
           GROUP BY v.actor_id`,
  },
  {
    dataset: 'unified_users',
    sql: `INSERT INTO learning_roi.unified_users
          SELECT c.*, coalesce(p.copilot_events, 0), coalesce(p.copilot_days, 0), coalesce(p.actions_events, 0),
                 coalesce(p.security_events, 0),
                 coalesce(p.total_events, 0), coalesce(p.active_days, 0),
                 coalesce(l.learn_views, 0), coalesce(l.skills_views, 0), coalesce(l.docs_views, 0)
            FROM learning_roi.certified_users c
            LEFT JOIN learning_roi.product_usage p ON p.dotcom_id = c.dotcom_id AND c.dotcom_id > 0
            LEFT JOIN learning_roi.learning_activity l ON l.dotcom_id = c.dotcom_id AND c.dotcom_id > 0
           ORDER BY c.email`,
  },
  {
    sql: `INSERT INTO learning_roi.agg_pass_rate_by_exam_month
          SELECT exam_code, date_trunc('month', exam_date)::date, learning_roi.fiscal_year(min(exam_date)),
                 count(*), count(*) FILTER (WHERE passed), round(count(*) FILTER (WHERE passed)::numeric / count(*), 4),
                   round(avg(score), 1)
            FROM learning_roi.individual_exams GROUP BY 1, 2`,
  },
  {
    sql: `INSERT INTO learning_roi.agg_certified_by_fiscal_year
          WITH per_fy AS (
            SELECT fiscal_year, count(DISTINCT email) AS learners_tested, count(*) AS exams_taken,
              count(*) FILTER (WHERE passed) AS exams_passed
              FROM learning_roi.individual_exams GROUP BY fiscal_year),
          newly AS (
            SELECT first_certified_fiscal_year AS fiscal_year, count(*) AS n FROM learning_roi.certified_users
              WHERE is_certified GROUP BY 1)
          SELECT p.fiscal_year, p.learners_tested, p.exams_taken, p.exams_passed,
                 round(p.exams_passed::numeric / p.exams_taken, 4),
                 coalesce(n.n, 0), sum(coalesce(n.n, 0)) OVER (ORDER BY p.fiscal_year)
            FROM per_fy p LEFT JOIN newly n USING (fiscal_year)`,
  },
  {
    sql: `INSERT INTO learning_roi.agg_usage_by_certification
          SELECT CASE WHEN a.is_certified THEN 'certified' ELSE 'not_yet_certified' END, count(*), count(p.dotcom_id),
                 round(count(p.dotcom_id)::numeric / count(*), 4),
                 round(avg(coalesce(p.copilot_events, 0)), 2), round(avg(coalesce(p.copilot_days, 0)), 2),
                 round(avg(coalesce(p.actions_events, 0)), 2), round(avg(coalesce(p.security_events, 0)), 2),
                   round(avg(coalesce(p.total_events, 0)), 2)
            FROM roi_accounts a LEFT JOIN learning_roi.product_usage p USING (dotcom_id)
           GROUP BY 1`,
  },
  {
    sql: `INSERT INTO learning_roi.agg_usage_before_after
          WITH around AS (
            SELECT u.dotcom_id, u.product, u.events, u.day, u.day < a.first_certified_date AS before
              FROM roi_usage_days u JOIN roi_accounts a USING (dotcom_id)
             WHERE a.is_certified AND u.day >= a.first_certified_date - ${BEFORE_AFTER_DAYS}
               AND u.day < a.first_certified_date + ${BEFORE_AFTER_DAYS}),
          per_product AS (
            SELECT product, count(DISTINCT dotcom_id) AS accounts,
                   coalesce(sum(events) FILTER (WHERE before), 0) AS eb,
                   coalesce(sum(events) FILTER (WHERE NOT before), 0) AS ea,
                   count(*) FILTER (WHERE before) AS db, count(*) FILTER (WHERE NOT before) AS da
              FROM around GROUP BY ROLLUP (product))
          SELECT coalesce(product, 'all'), ${BEFORE_AFTER_DAYS}, accounts, eb, ea, db, da,
                 round(eb::numeric / accounts, 2), round(ea::numeric / accounts, 2),
                 CASE WHEN eb > 0 THEN round(100.0 * (ea - eb) / eb, 1) END
            FROM per_product WHERE accounts > 0`,
  },
];

// The rows the ON CONFLICT above skipped, in the same order: rejected, never silently dropped.
const DUPLICATES = `
  INSERT INTO etl_rejects (job_name, target_date, reason, raw)
  SELECT $1, $2, 'duplicate attempt id', to_jsonb(d) - 'raw' - 'reason' - 'n'
    FROM (SELECT r.*, row_number() OVER (PARTITION BY exam_source, attempt_id ORDER BY exam_date DESC, email) AS n
            FROM roi_exam_rows r
           WHERE reason IS NULL AND (exam_source, attempt_id) IN (
                 SELECT exam_source, attempt_id FROM roi_exam_rows WHERE reason IS NULL GROUP BY 1, 2
                   HAVING count(*) > 1)) d
   WHERE n > 1`;

const TABLES = [
  'individual_exams',
  'certified_users',
  'product_usage',
  'learning_activity',
  'unified_users',
  'agg_pass_rate_by_exam_month',
  'agg_certified_by_fiscal_year',
  'agg_usage_by_certification',
  'agg_usage_before_after',
].map((t) => `learning_roi.${t}`);

export interface DatasetBuild {
  read: number;
  loaded: number;
  rejected: number;
  rows: Record<DatasetName, number>;
  buildMs: Record<DatasetName, number>;
  usageRowsOutsideLearners: number;
}

/** Rebuilds every dataset and aggregate table inside `tx` and records each dataset as built. */
export async function buildDatasets(
  tx: PoolClient,
  job: string,
  date: string,
  sourceOf: (d: DatasetName) => string,
): Promise<DatasetBuild> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('learning-roi:datasets'))`);
  await tx.query(`SET LOCAL TIME ZONE 'UTC'`);
  await tx.query(`SET LOCAL work_mem = '256MB'`);
  await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date = $2', [job, date]);
  await tx.query(`CREATE TEMP TABLE roi_exam_rows ON COMMIT DROP AS ${EXAM_ROWS}`);
  await tx.query('ANALYZE roi_exam_rows');
  const usageRejects = `SELECT CASE WHEN u.user_id IS NULL OR u.user_id <= 0 THEN 'missing or non-positive user id'
                                    WHEN u.product IS NULL OR u.product NOT IN ('copilot', 'actions', 'security')
                                      THEN 'unknown product'
                                    WHEN u.events IS NULL OR u.events < 0 THEN 'invalid event count' END AS reason,
                               to_jsonb(u) || '{"source":"product_usage"}' AS raw
                          FROM staging.kusto_product_usage u
                        UNION ALL
                        SELECT CASE WHEN v.actor_id IS NULL OR v.actor_id <= 0 THEN 'missing or non-positive actor id'
                                    WHEN v.site IS NULL OR v.site NOT IN ('learn', 'skills', 'docs') THEN 'unknown site'
                                    WHEN v.views IS NULL OR v.views < 0 THEN 'invalid view count' END,
                               to_jsonb(v) || '{"source":"page_views"}'
                          FROM staging.kusto_page_views v`;
  const rejected = await tx.query(
    `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
     SELECT $1, $2, reason, raw FROM (SELECT reason, raw FROM roi_exam_rows UNION ALL ${usageRejects}) x
       WHERE reason IS NOT NULL`,
    [job, date],
  );
  const read = await tx.query<{ exams: number; activity: number }>(
    `SELECT (SELECT count(*) FROM roi_exam_rows)::int AS exams,
            ((SELECT count(*) FROM staging.kusto_product_usage)
             + (SELECT count(*) FROM staging.kusto_page_views))::int AS activity`,
  );

  await tx.query(`TRUNCATE ${TABLES.join(', ')}`);
  await tx.query('DROP INDEX IF EXISTS learning_roi.individual_exams_email');
  const rows = {} as Record<DatasetName, number>;
  const buildMs = {} as Record<DatasetName, number>;
  for (const step of STEPS) {
    const t0 = Date.now();
    const r = await tx.query(step.sql);
    if (step.dataset) {
      rows[step.dataset] = r.rowCount ?? 0;
      buildMs[step.dataset] = Date.now() - t0;
    }
  }
  const outside = await tx.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM staging.kusto_product_usage u
               WHERE u.user_id > 0 AND NOT EXISTS (SELECT 1 FROM roi_accounts a WHERE a.dotcom_id = u.user_id))
           + (SELECT count(*) FROM staging.kusto_page_views v
               WHERE v.actor_id > 0 AND NOT EXISTS (SELECT 1 FROM roi_accounts a WHERE a.dotcom_id = v.actor_id))
           )::int AS n`,
  );
  const valid = (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM roi_exam_rows WHERE reason IS NULL'))
    .rows[0]!.n;
  // Only when the insert skipped rows is there anything to look for: a full pass otherwise wasted.
  const duplicates = rows.individual_exams < valid ? ((await tx.query(DUPLICATES, [job, date])).rowCount ?? 0) : 0;
  if (rows.individual_exams + duplicates !== valid) {
    throw new Error(
      `reconciliation failed: ${read.rows[0]!.exams} exam rows read ` +
        `≠ ${rows.individual_exams} loaded + ${read.rows[0]!.exams - valid + duplicates} rejected`,
    );
  }
  for (const t of TABLES) await tx.query(`ANALYZE ${t}`);
  for (const d of DATASETS) {
    await tx.query(
      `INSERT INTO learning_roi.dataset_syncs (dataset, target_date, status, rows, build_ms, source)
        VALUES ($1, $2, 'built', $3, $4, $5)`,
      [d, date, rows[d], buildMs[d], sourceOf(d)],
    );
  }
  await tx.query(`DELETE FROM learning_roi.dataset_syncs WHERE built_at < now() - interval '90 days'`);
  const totalRejected = (rejected.rowCount ?? 0) + duplicates;
  return {
    read: read.rows[0]!.exams + read.rows[0]!.activity,
    loaded: read.rows[0]!.exams + read.rows[0]!.activity - totalRejected,
    rejected: totalRejected,
    rows,
    buildMs,
    usageRowsOutsideLearners: outside.rows[0]!.n,
  };
}

/** "sample (built-in, scale 1): ace.exam_results (FY22-25), …" — where a dataset's rows come from. */
export function datasetSource(config: Config, d: DatasetName): string {
  const byOrigin = new Map<string, string[]>();
  for (const s of DATASET_SOURCES[d]) {
    const spec = KUSTO_SOURCES[s];
    const origin = kustoOriginLabel(config, spec.cluster);
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), spec.origin]);
  }
  return [...byOrigin].map(([o, tables]) => `${o}: ${tables.join(', ')}`).join('; ');
}

export function createLearningRoiAggregateActivities({ warehouse, config }: ActivityDeps) {
  return {
    async buildLearningRoiDatasets(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
        async (tx) => {
          const b = await buildDatasets(tx, input.nodeId, date, (d) => datasetSource(config, d));
          return {
            processed: b.read,
            inserted: b.loaded,
            rejected: b.rejected,
            detail: {
              ...Object.fromEntries(Object.entries(b.rows)),
              usageRowsOutsideLearners: b.usageRowsOutsideLearners,
            },
          };
        },
      );
    },
  };
}
