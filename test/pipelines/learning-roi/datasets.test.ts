// The datasets and dashboard files from a small hand-made staging: scores across both fiscal-year
// schemas, fiscal years at the 1 July boundary, rejects, and the CSV and JSON files checked
// against their expected content. Also: the TypeScript rules used by live reads agree with SQL.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDatasets } from '../../../src/pipelines/learning-roi/datasets.js';
import { resolveLearners } from '../../../src/pipelines/learning-roi/identity.js';
import { computedScore, fiscalYear, normalizeEmail } from '../../../src/pipelines/learning-roi/identity-rules.js';
import { createLearningRoiExportActivities } from '../../../src/pipelines/learning-roi/export.js';
import { loadConfig } from '../../../src/config.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { createLogger } from '../../../src/logging.js';
import type { NodeActivity, NodeInput, NodeResult } from '../../../src/pipelines/types.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

let db: TestDatabases;
// MockActivityEnvironment.run cannot infer the result type of a NodeActivity.
const runNode = (env: MockActivityEnvironment, fn: NodeActivity, i: NodeInput) => env.run(fn, i) as Promise<NodeResult>;
let outputDir: string;
const DATE = '2026-02-01';
const dir = () => path.join(outputDir, 'learning-roi');
const csv = (name: string) => readFileSync(path.join(dir(), `${name}.csv`), 'utf8');
const json = (name: string) => JSON.parse(readFileSync(path.join(dir(), 'aggregated', `${name}.json`), 'utf8'));

beforeAll(async () => {
  db = await createTestDatabases();
  outputDir = mkdtempSync(path.join(tmpdir(), 'roi-datasets-'));
  const q = (sql: string) => db.warehouse.query(sql);
  await q(
    `INSERT INTO etl_kusto_runs (run_key, source, job_name, plan, finished_at)
      VALUES ('r-e', 'user_emails', 'x', '{}', now()), ('r-s', 'user_signups', 'x', '{}', now())`,
  );
  await q(
    `INSERT INTO staging.kusto_user_emails (run_key, partition_key, user_id, email, is_primary, verified, updated_at)
      VALUES ('r-e', 'p0of1', 501, 'ann@example.com', true, true, '2020-01-01')`,
  );
  await q(
    `INSERT INTO staging.kusto_user_signups (run_key, partition_key, signup_at, actor_id, email)
      VALUES ('r-s', 'p0of1', '2020-01-01', 601, 'cat@example.com')`,
  );
  await q(`INSERT INTO staging.kusto_ace_exam_results (exam_id, email, dotcomid, exam_code, exam_name, exam_date,
    correct_answers, incorrect_answers, passed) VALUES
    ('A1', ' Ann@Example.com', 501, 'GH-200', 'GitHub Actions', '2025-06-30T23:59:59Z', 45, 15, true),
    ('A2', 'ann@example.com', 501, 'GH-100', 'GitHub Administration', '2024-02-10T09:00:00Z', 20, 40, false),
    ('A3', 'ben@example.com', NULL, 'GH-500', 'GitHub Advanced Security', '2023-11-05T12:00:00Z', 0, 0, true),
    ('A4', 'ben@example.com', NULL, 'GH-500', 'GitHub Advanced Security', '2023-10-01T12:00:00Z', -1, 50, false),
    ('A5', '', NULL, 'GH-200', 'GitHub Actions', '2024-01-01T00:00:00Z', 10, 10, true),
    ('A1', 'ann@example.com', 501, 'GH-200', 'GitHub Actions', '2025-01-01T00:00:00Z', 45, 15, true)`);
  await q(`INSERT INTO staging.kusto_pearson_exam_results (registration_id, candidate_email, exam_code, exam_title,
    exam_date, score, passing_score, result) VALUES
    ('P1', 'ann@example.com', 'GH-300', 'GitHub Copilot', '2025-07-01T00:00:00Z', 88, 70, 'Pass'),
    ('P2', 'CAT@example.com ', 'GH-900', 'GitHub Foundations', '2026-01-15T08:30:00Z', 64.5, 70, 'Fail'),
    ('P3', 'cat@example.com', 'GH-900', 'GitHub Foundations', '2026-02-15T08:30:00Z', 120, 70, 'Pass')`);
  await q(`INSERT INTO staging.kusto_product_usage (day, user_id, product, events) VALUES
    ('2025-06-01', 501, 'copilot', 10), ('2025-07-15', 501, 'copilot', 30), ('2025-07-15', 501, 'actions', 5),
    ('2026-01-20', 601, 'security', 2), ('2025-01-01', 999, 'copilot', 7), ('2025-01-02', NULL, 'copilot', 3)`);
  await q(`INSERT INTO staging.kusto_page_views (first_view_at, last_view_at, actor_id, site, views) VALUES
    ('2025-05-01T10:00:00Z', '2025-05-03T10:00:00Z', 501, 'learn', 5),
    ('2025-05-02T10:00:00Z', '2025-05-02T11:00:00Z', 501, 'docs', 2),
    ('2026-01-10T10:00:00Z', '2026-01-10T10:00:00Z', 601, 'skills', 4)`);
  await withTransaction(db.warehouse, (tx) => resolveLearners(tx, 'roi_resolve_identities', DATE));
});
afterAll(async () => {
  await db?.close();
});

describe('learning ROI datasets', () => {
  it('builds every dataset, rejecting what cannot be trusted (read = loaded + rejected)', async () => {
    const b = await withTransaction(db.warehouse, (tx) => buildDatasets(tx, 'roi_build_datasets', DATE, () => 'test'));
    expect(b.rows).toEqual({
      individual_exams: 5,
      certified_users: 3,
      product_usage: 2,
      learning_activity: 2,
      unified_users: 3,
    });
    expect(b.read).toBe(9 + 6 + 3);
    expect(b.rejected).toBe(5);
    expect(b.loaded + b.rejected).toBe(b.read);
    expect(b.usageRowsOutsideLearners).toBe(1);
    const rejects = await db.warehouse.query(
      `SELECT reason, coalesce(raw->>'exam_id', raw->>'registration_id', raw->>'attempt_id', raw->>'product') AS id
        FROM etl_rejects WHERE job_name = 'roi_build_datasets' ORDER BY reason`,
    );
    expect(rejects.rows).toEqual([
      { reason: 'duplicate attempt id', id: 'A1' },
      { reason: 'missing or invalid email', id: 'A5' },
      { reason: 'missing or non-positive user id', id: 'copilot' },
      { reason: 'negative answer count', id: 'A4' },
      { reason: 'score outside 0..100', id: 'P3' },
    ]);
  });

  it('exports the CSV files with the expected content', async () => {
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const acts = createLearningRoiExportActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir,
      logger: createLogger({ level: 'silent' }),
      config: loadConfig({}),
      sources: createSourceClients(loadConfig({})),
    });
    const r = await runNode(env, acts.exportLearningRoiFiles, {
      pipeline: 'learning-roi',
      nodeId: 'roi_export_files',
      targetDate: DATE,
      force: false,
      params: {},
    });
    expect(r.rows).toBe(5 + 3 + 2 + 2 + 3);
    expect(csv('individual_exams')).toBe(
      [
        'exam_source,attempt_id,email,dotcom_id,exam_code,exam_name,exam_date,fiscal_year,passed,score,score_method,' +
          'correct_answers,incorrect_answers',
        'ace,A3,ben@example.com,0,GH-500,GitHub Advanced Security,2023-11-05T12:00:00Z,FY24,true,,,0,0',
        'ace,A2,ann@example.com,501,GH-100,GitHub Administration,2024-02-10T09:00:00Z,FY24,false,33.3,computed,20,40',
        'ace,A1,ann@example.com,501,GH-200,GitHub Actions,2025-06-30T23:59:59Z,FY25,true,75.0,computed,45,15',
        'pearson,P1,ann@example.com,501,GH-300,GitHub Copilot,2025-07-01T00:00:00Z,FY26,true,88.0,reported,,',
        'pearson,P2,cat@example.com,601,GH-900,GitHub Foundations,2026-01-15T08:30:00Z,FY26,false,64.5,reported,,',
        '',
      ].join('\n'),
    );
    expect(csv('certified_users')).toBe(
      [
        'email,dotcom_id,resolved_by,is_certified,certification_count,certifications,exams_taken,exams_passed,' +
          'first_exam_date,last_exam_date,first_certified_date,first_certified_fiscal_year',
        'ann@example.com,501,verified_email,true,2,GH-200;GH-300,3,2,2024-02-10,2025-07-01,2025-06-30,FY25',
        'ben@example.com,0,unresolved,true,1,GH-500,1,1,2023-11-05,2023-11-05,2023-11-05,FY24',
        'cat@example.com,601,signup,false,0,"",1,0,2026-01-15,2026-01-15,,',
        '',
      ].join('\n'),
    );
    expect(csv('product_usage')).toBe(
      [
        'dotcom_id,is_certified,copilot_events,copilot_days,actions_events,actions_days,security_events,' +
          'security_days,total_events,active_days,first_active_date,last_active_date',
        '501,true,40,2,5,1,0,0,45,2,2025-06-01,2025-07-15',
        '601,false,0,0,0,0,2,1,2,1,2026-01-20,2026-01-20',
        '',
      ].join('\n'),
    );
    expect(csv('learning_activity')).toBe(
      [
        'dotcom_id,learn_views,skills_views,docs_views,total_views,first_view_date,last_view_date',
        '501,5,0,2,7,2025-05-01,2025-05-03',
        '601,0,4,0,4,2026-01-10,2026-01-10',
        '',
      ].join('\n'),
    );
    expect(csv('unified_users').split('\n').slice(1)).toEqual([
      'ann@example.com,501,verified_email,true,2,GH-200;GH-300,3,2,2024-02-10,2025-07-01,2025-06-30,FY25,' +
        '40,2,5,0,45,2,5,0,2',
      'ben@example.com,0,unresolved,true,1,GH-500,1,1,2023-11-05,2023-11-05,2023-11-05,FY24,0,0,0,0,0,0,0,0,0',
      'cat@example.com,601,signup,false,0,"",1,0,2026-01-15,2026-01-15,,,0,0,0,2,2,1,0,4,0',
      '',
    ]);
    // Written through temporary files that were renamed: none is left behind.
    expect(readdirSync(dir()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the dashboard aggregates as JSON', () => {
    expect(json('pass_rate_by_exam_month').rows).toEqual([
      {
        exam_code: 'GH-500',
        month: '2023-11',
        fiscal_year: 'FY24',
        attempts: 1,
        passes: 1,
        pass_rate: 1,
        avg_score: null,
      },
      {
        exam_code: 'GH-100',
        month: '2024-02',
        fiscal_year: 'FY24',
        attempts: 1,
        passes: 0,
        pass_rate: 0,
        avg_score: 33.3,
      },
      {
        exam_code: 'GH-200',
        month: '2025-06',
        fiscal_year: 'FY25',
        attempts: 1,
        passes: 1,
        pass_rate: 1,
        avg_score: 75,
      },
      {
        exam_code: 'GH-300',
        month: '2025-07',
        fiscal_year: 'FY26',
        attempts: 1,
        passes: 1,
        pass_rate: 1,
        avg_score: 88,
      },
      {
        exam_code: 'GH-900',
        month: '2026-01',
        fiscal_year: 'FY26',
        attempts: 1,
        passes: 0,
        pass_rate: 0,
        avg_score: 64.5,
      },
    ]);
    expect(json('certified_learners_by_fiscal_year').rows).toEqual([
      {
        fiscal_year: 'FY24',
        learners_tested: 2,
        exams_taken: 2,
        exams_passed: 1,
        pass_rate: 0.5,
        newly_certified_learners: 1,
        cumulative_certified_learners: 1,
      },
      {
        fiscal_year: 'FY25',
        learners_tested: 1,
        exams_taken: 1,
        exams_passed: 1,
        pass_rate: 1,
        newly_certified_learners: 1,
        cumulative_certified_learners: 2,
      },
      {
        fiscal_year: 'FY26',
        learners_tested: 2,
        exams_taken: 2,
        exams_passed: 1,
        pass_rate: 0.5,
        newly_certified_learners: 0,
        cumulative_certified_learners: 2,
      },
    ]);
    expect(json('usage_certified_vs_not_yet_certified').rows).toEqual([
      {
        segment: 'certified',
        accounts: 1,
        accounts_with_usage: 1,
        share_with_usage: 1,
        avg_copilot_events: 40,
        avg_copilot_days: 2,
        avg_actions_events: 5,
        avg_security_events: 0,
        avg_total_events: 45,
      },
      {
        segment: 'not_yet_certified',
        accounts: 1,
        accounts_with_usage: 1,
        share_with_usage: 1,
        avg_copilot_events: 0,
        avg_copilot_days: 0,
        avg_actions_events: 0,
        avg_security_events: 2,
        avg_total_events: 2,
      },
    ]);
    const ba = json('usage_before_after_certification');
    expect(ba.target_date).toBe(DATE);
    expect(ba.rows).toEqual([
      {
        product: 'actions',
        window_days: 90,
        accounts: 1,
        events_before: 0,
        events_after: 5,
        active_days_before: 0,
        active_days_after: 1,
        avg_events_before: 0,
        avg_events_after: 5,
        change_pct: null,
      },
      {
        product: 'copilot',
        window_days: 90,
        accounts: 1,
        events_before: 10,
        events_after: 30,
        active_days_before: 1,
        active_days_after: 1,
        avg_events_before: 10,
        avg_events_after: 30,
        change_pct: 200,
      },
      {
        product: 'all',
        window_days: 90,
        accounts: 1,
        events_before: 10,
        events_after: 35,
        active_days_before: 1,
        active_days_after: 2,
        avg_events_before: 10,
        avg_events_after: 35,
        change_pct: 250,
      },
    ]);
  });

  it('applies the same rules in TypeScript (live reads) as in SQL', async () => {
    const emails = ['  Ann@Example.COM\t', `bob@example.com${String.fromCharCode(160)}`, '\r\nX@Y.Z ', '   '];
    const dates = ['2025-06-30T23:59:59Z', '2025-07-01T00:00:00Z', '2021-07-01T00:00:00Z', '2000-12-31T12:00:00Z'];
    const answers: Array<[number, number]> = [
      [45, 15],
      [1, 7],
      [2, 1],
      [0, 0],
      [1, 2],
      [2, 7],
    ];
    const { rows } = await db.warehouse.query(
      `SELECT (SELECT array_agg(learning_roi.normalize_email(e) ORDER BY i) FROM unnest($1::text[])
        WITH ORDINALITY AS t(e, i)) AS emails,
              (SELECT array_agg(learning_roi.fiscal_year(d) ORDER BY i) FROM unnest($2::timestamptz[])
                WITH ORDINALITY AS t(d, i)) AS fys,
              (SELECT array_agg(round(100.0 * c / nullif(c + n, 0), 1)::float8 ORDER BY i)
                FROM unnest($3::int[], $4::int[]) WITH ORDINALITY AS t(c, n, i)) AS scores`,
      [emails, dates, answers.map((a) => a[0]), answers.map((a) => a[1])],
    );
    expect(emails.map((e) => normalizeEmail(e) ?? null)).toEqual(rows[0].emails);
    expect(dates.map((d) => fiscalYear(new Date(d)))).toEqual(rows[0].fys);
    expect(answers.map(([c, n]) => computedScore(c, n))).toEqual(rows[0].scores);
  });
});
