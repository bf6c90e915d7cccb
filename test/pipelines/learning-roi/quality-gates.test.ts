// Data-quality gates: each gate passing and failing, warn versus fail mode, results kept in
// etl_quality_gates and sync_status.json, and the ledger's FAILED row saying why.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLearningRoiQualityActivities, evaluateGates } from '../../../src/pipelines/learning-roi/gates.js';
import { loadConfig } from '../../../src/config.js';
import { ValidationError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logging.js';
import type { NodeActivity, NodeResult } from '../../../src/pipelines/types.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

let db: TestDatabases;
let outputDir: string;
let day = 0;

beforeAll(async () => {
  db = await createTestDatabases();
  outputDir = mkdtempSync(path.join(tmpdir(), 'roi-gates-'));
  const q = (sql: string) => db.warehouse.query(sql);
  // 10 learners, 7 with a dotcom_id: 70%.
  await q(`INSERT INTO learning_roi.learner_identities (email, dotcom_id, resolved_by, candidate_count, has_conflict)
           SELECT 'l' || i || '@example.com', CASE WHEN i <= 7 THEN 1000 + i ELSE 0 END, CASE WHEN i <= 7
             THEN 'verified_email' ELSE 'unresolved' END, 1, false
             FROM generate_series(1, 10) i`);
  // 21 FY22-25 exams, 20 with a score: 95.2%. Pearson exams never count against coverage.
  await q(`INSERT INTO learning_roi.individual_exams (exam_source, attempt_id, email, dotcom_id, exam_code, exam_date,
           fiscal_year, passed, score, score_method)
           SELECT 'ace', 'a' || i, 'l1@example.com', 1001, 'GH-200', '2024-01-01'::timestamptz, 'FY24', true, CASE
             WHEN i <= 20 THEN 80 END, CASE WHEN i <= 20 THEN 'computed' END
             FROM generate_series(1, 21) i
           UNION ALL
           SELECT 'pearson', 'p' || i, 'l1@example.com', 1001, 'GH-300', '2025-08-01', 'FY26', true, NULL, NULL
             FROM generate_series(1, 5) i`);
  // Two syncs of every dataset: +10% everywhere except product_usage, down 40%.
  await q(`INSERT INTO learning_roi.dataset_syncs (dataset, status, rows, source, synced_at)
           SELECT d, 'success', 100, 'test', now() - interval '6 hours'
             FROM unnest(ARRAY['certified_users','unified_users','individual_exams','product_usage',
                               'learning_activity']) d`);
  await q(`INSERT INTO learning_roi.dataset_syncs (dataset, status, rows, source, synced_at)
           SELECT d, 'success', CASE WHEN d = 'product_usage' THEN 60 ELSE 110 END, 'test', now()
             FROM unnest(ARRAY['certified_users','unified_users','individual_exams','product_usage',
                               'learning_activity']) d`);
});
afterAll(async () => {
  await db?.close();
});

const config = (env: Record<string, string> = {}) => loadConfig({ LEARNSYNC_OUTPUT_DIR: outputDir, ...env });

async function check(env: Record<string, string> = {}) {
  const c = config(env);
  const acts = createLearningRoiQualityActivities({
    warehouse: db.warehouse,
    oltp: db.oltp,
    outputDir,
    logger: createLogger({ level: 'silent' }),
    config: c,
    sources: createSourceClients(c),
  });
  const targetDate = `2026-01-${String(++day).padStart(2, '0')}`;
  const run = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
    acts.checkLearningRoiQuality as NodeActivity,
    {
      pipeline: 'learning-roi',
      nodeId: 'roi_quality_gates',
      targetDate,
      force: false,
      params: {},
    },
  ) as Promise<NodeResult>;
  return { run, targetDate };
}

const byGate = (rows: Array<{ gate: string; status: string }>) =>
  Object.fromEntries(rows.map((r) => [r.gate, r.status]));

describe('learning ROI quality gates', () => {
  it('passes what is inside its thresholds and warns on a row-count drop in warn mode', async () => {
    const results = await evaluateGates(db.warehouse, config().learningRoi.gates);
    expect(byGate(results)).toEqual({
      'row_count:certified_users': 'pass',
      'row_count:unified_users': 'pass',
      'row_count:individual_exams': 'pass',
      'row_count:product_usage': 'warn',
      'row_count:learning_activity': 'pass',
      identity_resolution_rate: 'pass',
      score_coverage_fy22_25: 'pass',
    });
    expect(results.find((r) => r.gate === 'identity_resolution_rate')).toMatchObject({
      observed: 0.7,
      expected: '≥ 65.0%',
    });
    expect(results.find((r) => r.gate === 'score_coverage_fy22_25')).toMatchObject({ observed: 0.9524 });
    expect(results.find((r) => r.gate === 'row_count:product_usage')!.note).toBe(
      '60 rows vs 100 at the previous sync (-40.0%)',
    );

    const { run } = await check();
    const r = await run;
    expect(r.detail).toMatchObject({ passed: 6, warned: 1, failed: 0, warnings: 'row_count:product_usage' });
  });

  it(
    'fails the node when the identity-resolution rate ' + 'is below a fail-mode threshold, keeping the result',
    async () => {
      const { run, targetDate } = await check({ LEARNING_ROI_IDENTITY_MIN_RATE: '0.75' });
      const err = await run.catch((e: Error) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain(
        'identity_resolution_rate (7 of 10 learners have a dotcom_id (70.0%); expected ≥ 75.0%)',
      );
      const gates = await db.warehouse.query(
        `SELECT gate, status FROM etl_quality_gates WHERE target_date = $1 ORDER BY id`,
        [targetDate],
      );
      expect(byGate(gates.rows)).toMatchObject({
        identity_resolution_rate: 'fail',
        score_coverage_fy22_25: 'pass',
        'row_count:product_usage': 'warn',
      });
      const ledger = await db.warehouse.query(
        `SELECT status, error_message FROM etl_job_runs WHERE job_name = 'roi_quality_gates' AND target_date = $1`,
        [targetDate],
      );
      expect(ledger.rows).toHaveLength(1);
      expect(ledger.rows[0].status).toBe('FAILED');
      expect(ledger.rows[0].error_message).toContain('identity_resolution_rate');
      const status = JSON.parse(readFileSync(path.join(outputDir, 'learning-roi', 'sync_status.json'), 'utf8'));
      expect(status.quality_gates.find((g: { gate: string }) => g.gate === 'identity_resolution_rate')).toMatchObject({
        status: 'fail',
        mode: 'fail',
        target_date: targetDate,
      });
    },
  );

  it('only warns about the same rate in warn mode', async () => {
    const { run } = await check({ LEARNING_ROI_IDENTITY_MIN_RATE: '0.75', LEARNING_ROI_IDENTITY_GATE: 'warn' });
    expect((await run).detail).toMatchObject({ warned: 2, failed: 0 });
  });

  it('fails on FY22-25 score coverage below its minimum', async () => {
    const { run } = await check({ LEARNING_ROI_SCORE_COVERAGE_MIN: '0.99' });
    await expect(run).rejects.toThrow(/score_coverage_fy22_25 \(20 of 21 FY22-25 exams have a score/);
  });

  it('fails on a row count outside the band in fail mode, and passes a wider band', async () => {
    await expect((await check({ LEARNING_ROI_ROW_GATE: 'fail' })).run).rejects.toThrow(
      /row_count:product_usage \(60 rows vs 100/,
    );
    expect(
      (await (await check({ LEARNING_ROI_ROW_GATE: 'fail', LEARNING_ROI_ROW_BAND: '0.5' })).run).detail,
    ).toMatchObject({ passed: 7, failed: 0 });
  });

  it('passes a first sync with nothing to compare, and fails when there are no learners', async () => {
    await db.warehouse.query(`DELETE FROM learning_roi.dataset_syncs WHERE synced_at < now() - interval '1 hour'`);
    const results = await evaluateGates(db.warehouse, config().learningRoi.gates);
    expect(results.find((r) => r.gate === 'row_count:product_usage')).toMatchObject({
      status: 'pass',
      note: '60 rows; first sync, nothing to compare with',
    });
    await db.warehouse.query('TRUNCATE learning_roi.learner_identities');
    const empty = await evaluateGates(db.warehouse, config().learningRoi.gates);
    expect(empty.find((r) => r.gate === 'identity_resolution_rate')).toMatchObject({
      status: 'fail',
      note: 'no learners at all',
    });
  });
});
