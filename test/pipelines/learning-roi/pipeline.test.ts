// Workflow tier with real activities: the learning-roi DAG in the time-skipping server, in sample
// mode (no Kusto configuration: the in-process sample Kusto server answers), against real Postgres.
// Then the live profile read on the synced data: live, cached, and the warehouse fallback when the
// cluster is down — over the service and over HTTP.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities/index.js';
import type { KustoClusters } from '../../../src/pipelines/learning-roi/clusters.js';
import { buildSyncStatus } from '../../../src/pipelines/learning-roi/status.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { KustoCluster } from '../../../src/connectors/kusto/client.js';
import { LearnerProfileService, startProfileServer } from '../../../src/pipelines/learning-roi/learner-profile.js';
import { createLogger } from '../../../src/logging.js';
import { learningRoi } from '../../../src/pipelines/learning-roi/definition.js';
import { sampleKustoServer } from '../../../src/pipelines/learning-roi/sample/source.js';
import { freePort } from '../../../src/stack/temporal-dev-server.js';
import { runPipeline } from '../../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

const SCALE = '0.02';
let env: TestWorkflowEnvironment;
let db: TestDatabases;
let outputDir: string;
let config: Config;

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
  outputDir = mkdtempSync(path.join(tmpdir(), 'roi-pipeline-'));
  config = loadConfig({
    LEARNING_ROI_SAMPLE_SCALE: SCALE,
    KUSTO_HISTORY_START: '2025-01-01',
    LEARNSYNC_OUTPUT_DIR: outputDir,
  });
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
});

async function runOnce(taskQueue: string, force: boolean) {
  const activities = createActivities({
    warehouse: db.warehouse,
    oltp: db.oltp,
    outputDir,
    logger: createLogger({ level: 'silent' }),
    config,
    sources: createSourceClients(config),
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    ...bundledWorkerOptions(),
  });
  return worker.runUntil(
    env.client.workflow.execute(runPipeline, {
      taskQueue,
      workflowId: `${taskQueue}-${Date.now()}`,
      args: [{ pipeline: 'learning-roi', targetDate: '2026-06-30', force, definition: learningRoi }],
    }),
  );
}

describe('learning-roi pipeline in sample mode', () => {
  it('runs extract → identities → datasets → files → gates, with the extracts in parallel', async () => {
    expect(config.kusto.mode).toBe('sample');
    const result = await runOnce('roi-1', false);
    expect(result.status).toBe('SUCCESS');
    const node = (id: string) => result.nodes.find((n) => n.id === id)!;
    expect(result.nodes.every((n) => n.state === 'succeeded')).toBe(true);
    // The six extracts overlapped: each started before the first of them finished.
    const extracts = result.nodes.filter((n) => n.activity === 'extractKustoSource');
    expect(extracts).toHaveLength(6);
    const firstEnd = Math.min(...extracts.map((n) => n.finishedAt!));
    expect(extracts.every((n) => n.startedAt! < firstEnd)).toBe(true);

    const { sample } = await sampleKustoServer(Number(SCALE));
    const from = Date.parse('2025-01-01T00:00:00Z');
    const to = Date.parse('2026-07-01T00:00:00Z');
    expect(node('roi_extract_ace_exams').rows).toBe(sample.aceRows(from, to).length);
    expect(node('roi_extract_pearson_exams').rows).toBe(sample.pearsonRows(from, to).length);

    const files = readdirSync(path.join(outputDir, 'learning-roi')).sort();
    expect(files).toEqual([
      'aggregated',
      'certified_users.csv',
      'individual_exams.csv',
      'learning_activity.csv',
      'product_usage.csv',
      'sync_status.json',
      'unified_users.csv',
    ]);
    const status = JSON.parse(readFileSync(path.join(outputDir, 'learning-roi', 'sync_status.json'), 'utf8'));
    const exams = (await db.warehouse.query('SELECT count(*)::int AS n FROM learning_roi.individual_exams')).rows[0].n;
    expect(status.datasets.individual_exams).toMatchObject({
      status: 'success',
      rows: exams,
      file: 'individual_exams.csv',
      errors: [],
    });
    expect(status.datasets.individual_exams.source).toContain('sample (built-in, scale 0.02)');
    expect(Object.keys(status.sources).sort()).toEqual([
      'ace_exam_results',
      'page_views',
      'pearson_exam_results',
      'product_usage',
      'user_emails',
      'user_signups',
    ]);
    expect(status.quality_gates.map((g: { status: string }) => g.status)).toEqual(Array(7).fill('pass'));
    const rate = status.quality_gates.find((g: { gate: string }) => g.gate === 'identity_resolution_rate').observed;
    expect(rate).toBeGreaterThan(0.6);
    expect(rate).toBeLessThan(0.8);
  });

  it('a forced rerun re-reads only the lookback windows and gives the same datasets', async () => {
    const checksum = async () =>
      (
        await db.warehouse.query(
          `SELECT md5(string_agg(concat_ws('|', exam_source, attempt_id, email, dotcom_id, score, fiscal_year), ','
            ORDER BY exam_source, attempt_id)) AS s FROM learning_roi.individual_exams`,
        )
      ).rows[0].s;
    const before = await checksum();
    const result = await runOnce('roi-2', true);
    expect(result.status).toBe('SUCCESS');
    expect(await checksum()).toBe(before);
    const runs = await db.warehouse.query(
      `SELECT r.source, count(w.*)::int AS windows, r.plan->>'from' AS "from" FROM etl_kusto_runs r
        JOIN etl_kusto_windows w USING (run_key, source)
        WHERE r.run_key LIKE 'roi-2-%' AND r.source = 'ace_exam_results' GROUP BY r.source, r.plan`,
    );
    expect(runs.rows).toEqual([{ source: 'ace_exam_results', windows: 1, from: '2026-06-28T00:00:00.000Z' }]);
    const gates = await db.warehouse.query(
      `SELECT gate, status, note FROM etl_quality_gates WHERE gate = 'row_count:individual_exams' ORDER BY id DESC
        LIMIT 1`,
    );
    expect(gates.rows[0]).toMatchObject({ status: 'pass' });
    expect(gates.rows[0].note).toContain('(+0.0%)');
  });
});

describe('live learner profile', () => {
  let learner: string;
  beforeAll(async () => {
    // A learner with exams in both schemas (FY25 and FY26).
    const { rows } = await db.warehouse.query(
      `SELECT email FROM learning_roi.individual_exams GROUP BY email HAVING count(DISTINCT exam_source) = 2
        ORDER BY count(*) DESC, email LIMIT 1`,
    );
    learner = rows[0].email;
  });

  it('reads Kusto live, then serves the same answer from its cache for five minutes', async () => {
    let now = Date.parse('2026-11-23T12:00:00Z');
    const service = new LearnerProfileService({
      warehouse: db.warehouse,
      clusters: createSourceClients(config).kusto,
      config,
      now: () => now,
    });
    const { server } = await sampleKustoServer(Number(SCALE));
    const before = server.requests.length;
    const live = await service.profile(`  ${learner.toUpperCase()} `);
    expect(live.source).toBe('kusto');
    expect(live.email).toBe(learner);
    expect(server.requests.length).toBe(before + 2); // one query per cluster
    const synced = await db.warehouse.query(
      `SELECT attempt_id, fiscal_year, score::float8 AS score FROM learning_roi.individual_exams WHERE email = $1
        ORDER BY exam_date, attempt_id`,
      [learner],
    );
    expect(live.exams.map((e) => ({ attempt_id: e.attemptId, fiscal_year: e.fiscalYear, score: e.score }))).toEqual(
      synced.rows,
    );
    expect(new Set(live.exams.map((e) => e.source))).toEqual(new Set(['ace', 'pearson']));

    now += 4 * 60_000;
    expect((await service.profile(learner)).source).toBe('cache');
    expect(server.requests.length).toBe(before + 2);
    now += 2 * 60_000;
    expect((await service.profile(learner)).source).toBe('kusto');
    expect(server.requests.length).toBe(before + 4);
  });

  it('falls back to the last synced data, and says so, when Kusto is down — also over HTTP', async () => {
    const down = new KustoCluster({
      label: 'down',
      url: `http://127.0.0.1:${await freePort()}`,
      auth: { kind: 'access-token', accessToken: 'x' },
      queryTimeoutMs: 5000,
    });
    const clusters: KustoClusters = { mode: 'live', analytics: down, exam: down };
    const service = new LearnerProfileService({ warehouse: db.warehouse, clusters: async () => clusters, config });
    const p = await service.profile(learner);
    expect(p.source).toBe('warehouse');
    expect(p.kustoError).toMatch(/unreachable|ECONNREFUSED|cloud info/);
    expect(p.syncedAt).toBeTruthy();
    const synced = await db.warehouse.query(
      `SELECT count(*)::int AS n FROM learning_roi.individual_exams WHERE email = $1`,
      [learner],
    );
    expect(p.exams).toHaveLength(synced.rows[0].n);
    expect(p.dotcomId).not.toBeNull();

    const http = await startProfileServer(service, 0, { syncStatus: () => buildSyncStatus(db.warehouse) });
    try {
      const res = await fetch(`${http.url}/api/learners/${encodeURIComponent(learner)}/exams`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { source: string; exams: unknown[] };
      expect(body.source).toBe('warehouse');
      expect(body.exams).toHaveLength(synced.rows[0].n);
      expect((await fetch(`${http.url}/api/learners/not-an-email/exams`)).status).toBe(400);
      const st = (await (await fetch(`${http.url}/api/sync-status`)).json()) as {
        datasets: Record<string, { status: string }>;
      };
      expect(st.datasets.individual_exams!.status).toBe('success');
    } finally {
      await http.close();
    }
  });
});
