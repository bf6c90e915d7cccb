// One definition per number: on the same ledger and alerts fixture, `status --json`, `status`'s
// text, the API (/api/alerts, /api/pipelines) and the dashboard's overview give the same open
// alerts and the same success rate — final attempts, with retried failures counted beside it —
// and a run's duration is its whole time, not its last attempt's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/client.js';
import type { StatusReport } from '../../src/cli/status-report.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { reconcile } from '../../src/pipelines/alerts/store.js';
import { ALL_RULES } from '../../src/pipelines/alerts/rules.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken } from '../../src/server/tokens.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let server: RunningServer;
let reader: string;

const row = (_id: string, job: string, status: string, startedMinAgo: number, wf = 'learnsync-learning-sample-x') =>
  db.warehouse.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, workflow_id, target_date, status, rows_processed,
                               error_message, started_at, completed_at)
     VALUES (gen_random_uuid(), $1, 'learning-sample', $2, '2026-03-08', $3, 10, $4,
             now() - make_interval(mins => $5), now() - make_interval(mins => $5) + interval '1 minute')`,
    [job, wf, status, status === 'FAILED' ? 'boom' : null, startedMinAgo],
  );

beforeAll(async () => {
  db = await createTestDatabases();
  // Three jobs of one run: one failed twice then succeeded, one succeeded, one failed for good.
  await row('a1', 'extract_exam_results', 'FAILED', 60);
  await row('a2', 'extract_exam_results', 'FAILED', 50);
  await row('a3', 'extract_exam_results', 'SUCCESS', 40);
  await row('b1', 'transform_scores', 'SUCCESS', 30);
  await row('c1', 'load_dashboard', 'FAILED', 20);
  await reconcile(
    db.warehouse,
    [
      {
        rule: 'failed_job',
        subject: 'load_dashboard',
        pipeline: 'learning-sample',
        severity: 'critical',
        message: 'x',
      },
      { rule: 'overdue', subject: 'learning-sample', pipeline: 'learning-sample', severity: 'critical', message: 'y' },
    ],
    ALL_RULES,
  );
  await reconcile(db.warehouse, [], ['row_drop']); // nothing else open
  const config = loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
  server = await startServer(
    {
      config,
      logger: createLogger({ level: 'silent' }),
      warehouse: db.warehouse,
      temporal: async () => {
        throw new Error('no Temporal in this test');
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
  reader = (await createToken(db.warehouse, 'reader', 'read')).token;
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: config.temporal.address,
    WAREHOUSE_DATABASE_URL: db.warehouseUrl,
    LOG_LEVEL: 'silent',
  });
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

const api = async (p: string) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${reader}` } })).json() as Promise<any>;

async function status(...flags: string[]) {
  const out: string[] = [];
  const code = await main(['status', ...flags], (l = '') => out.push(l));
  return { code, out: out.join('\n') };
}

it('status (JSON and text), the API and the dashboard overview agree: alerts, success rate, duration', async () => {
  const json = await status('--json');
  expect(json.code).toBe(2); // Temporal unreachable: said on stderr, the rest still read
  const report = JSON.parse(json.out) as StatusReport;
  const text = (await status()).out;

  // Alerts: one list, the same everywhere.
  const openApi = (await api('/api/alerts?open=true')).alerts;
  const overview = await api('/api/dashboard/overview');
  const key = (a: { rule: string; subject: string }) => `${a.rule}:${a.subject}`;
  expect(report.alerts!.map(key).sort()).toEqual(['failed_job:load_dashboard', 'overdue:learning-sample']);
  expect(openApi.map(key).sort()).toEqual(report.alerts!.map(key).sort());
  expect(
    overview.alerts
      .filter((a: { resolvedAt: string | null }) => !a.resolvedAt)
      .map(key)
      .sort(),
  ).toEqual(report.alerts!.map(key).sort());
  expect(Object.keys(report.sections)).not.toContain('alerts');
  expect(text).toContain('⚠ Alerts (2 open)');
  expect(text).not.toMatch(/Alerts: none/);

  // Success rate: final attempts — 2 of 3 jobs (66.7%), with the 2 retried failures beside it.
  const [today] = report.dailySuccessRate!;
  expect(today).toMatchObject({ succeeded: 2, failed: 1, failedAttempts: 2, successRatePercent: 66.7 });
  expect(text).toMatch(/66\.7%\s+2 of 3 jobs succeeded, 1 failed, 0 skipped; 2 failed attempts retried/);
  const dash = overview.successRate7d.at(-1);
  expect(dash).toMatchObject({ succeeded: 2, failed: 1, failedAttempts: 2, successRatePercent: 66.7 });
  const pipelines = await api('/api/pipelines');
  const sample = pipelines.pipelines.find((p: { name: string }) => p.name === 'learning-sample');
  expect(sample.successRatePercent7d).toBe(66.7);
  expect(sample.jobRuns7d).toMatchObject({ succeeded: 2, failed: 1, failedAttempts: 2 });

  // Duration: the run's whole time, first attempt (60 min ago) to last end (19 min ago).
  const run = report.recentRuns!.find((r) => r.workflowId === 'learnsync-learning-sample-x')!;
  expect(run.durationMs).toBeGreaterThanOrEqual(41 * 60_000 - 1000);
  expect(run.durationMs).toBeLessThanOrEqual(41 * 60_000 + 1000);
});
