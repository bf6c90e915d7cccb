// Alerts end to end against a local webhook receiver: an overdue nightly pipeline and a failed job
// each produce exactly one call per webhook when they start and one when they resolve, however
// often the rules are evaluated in between; a receiver that fails is retried; and the alerts
// pipeline runs as a workflow through the generic DAG.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import { createLogger } from '../../../src/logging.js';
import { createAlertActivities, runAlerts } from '../../../src/pipelines/alerts/activities.js';
import { alertsPipeline } from '../../../src/pipelines/alerts/definition.js';
import type { Expectation } from '../../../src/pipelines/alerts/rules.js';
import { listAlerts } from '../../../src/pipelines/alerts/store.js';
import { learningSample } from '../../../src/pipelines/learning-sample/definition.js';
import { runPipeline } from '../../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';

interface Received {
  path: string;
  body: { event?: string; alert?: { rule: string; subject: string; message: string }; text?: string };
}

let db: TestDatabases;
let receiver: http.Server;
let received: Received[] = [];
let failNext = 0;
let base: string;
let config: Config;

beforeAll(async () => {
  db = await createTestDatabases();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
        return;
      }
      received.push({ path: req.url!, body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  config = loadConfig({
    ALERT_WEBHOOK_URLS: `${base}/generic`,
    ALERT_SLACK_WEBHOOK_URLS: `${base}/slack/T000/B000/secret`,
    ALERT_WEBHOOK_RETRIES: '2',
  });
});
afterAll(async () => {
  receiver?.close();
  await db?.close();
});
beforeEach(async () => {
  received = [];
  await db.warehouse.query('TRUNCATE alerts, etl_job_runs');
});

const nightly: Expectation[] = [{ def: learningSample, kind: 'nightly', deadlineMinutes: 6 * 60 }];
const evaluate = (now: string, expectations = nightly) =>
  runAlerts({ warehouse: db.warehouse, config }, { now: new Date(now), expectations, backoffMs: 5 });
const ledgerRow = (
  job: string,
  status: string,
  targetDate: string | null,
  extra: { error?: string; startedAt?: string } = {},
) =>
  db.warehouse.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, rows_processed, error_message,
                               started_at, completed_at)
     VALUES ($1, $2, 'learning-sample', $3, $4, 10, $5,
             coalesce($6::timestamptz, now()), coalesce($6::timestamptz, now()))`,
    [randomUUID(), job, targetDate, status, extra.error ?? null, extra.startedAt ?? null],
  );
const calls = (path: string, event: string) =>
  received.filter(
    (r) =>
      r.path.startsWith(path) &&
      (r.body.event === event || (path === '/slack' && (event === 'resolved') === /Resolved/.test(r.body.text ?? ''))),
  );

describe('alert rules and webhooks', () => {
  it('an overdue nightly run: one call per webhook when late, none while it stays late, one when done', async () => {
    // 05:00 UTC: before the 06:00 deadline, so the 8th (not yet due) is not judged; the 7th was done.
    for (const n of learningSample.nodes) await ledgerRow(n.id, 'SUCCESS', '2026-03-07');
    await evaluate('2026-03-09T05:00:00Z');
    expect(received).toEqual([]);

    await evaluate('2026-03-09T06:30:00Z');
    await evaluate('2026-03-09T06:45:00Z');
    await evaluate('2026-03-09T07:00:00Z');
    expect(calls('/generic', 'opened')).toHaveLength(1);
    expect(calls('/slack', 'opened')).toHaveLength(1);
    expect(received).toHaveLength(2);
    const generic = calls('/generic', 'opened')[0]!.body;
    expect(generic.alert).toMatchObject({ rule: 'overdue', subject: 'learning-sample' });
    expect(generic.alert!.message).toMatch(/for 2026-03-08 by 06:00 UTC/);
    expect(calls('/slack', 'opened')[0]!.body.text).toMatch(/overdue — learning-sample/);

    for (const n of learningSample.nodes) await ledgerRow(n.id, 'SUCCESS', '2026-03-08');
    await evaluate('2026-03-09T07:15:00Z');
    await evaluate('2026-03-09T07:30:00Z');
    expect(calls('/generic', 'resolved')).toHaveLength(1);
    expect(calls('/slack', 'resolved')).toHaveLength(1);
    expect(received).toHaveLength(4);
    const [row] = await listAlerts(db.warehouse);
    expect(row).toMatchObject({ rule: 'overdue', subject: 'learning-sample' });
    expect(row!.resolved_at).not.toBeNull();
    expect(row!.resolved_notified_at).not.toBeNull();
  });

  it('a failed job: one call when it fails, one when a later attempt succeeds', async () => {
    const now = new Date().toISOString();
    for (const n of learningSample.nodes)
      await ledgerRow(n.id, 'SUCCESS', now.slice(0, 10), { startedAt: new Date(Date.now() - 3_600_000).toISOString() });
    await ledgerRow('extract_exam_results', 'FAILED', now.slice(0, 10), { error: 'connection refused by the source' });
    const later = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
    await evaluate(later(1), []);
    await evaluate(later(16), []);
    expect(calls('/generic', 'opened')).toHaveLength(1);
    expect(calls('/generic', 'opened')[0]!.body.alert).toMatchObject({
      rule: 'failed_job',
      subject: 'extract_exam_results',
    });
    expect(calls('/generic', 'opened')[0]!.body.alert!.message).toMatch(/connection refused/);
    expect(calls('/slack', 'opened')).toHaveLength(1);

    await ledgerRow('extract_exam_results', 'SUCCESS', now.slice(0, 10), { startedAt: later(20) });
    await evaluate(later(31), []);
    await evaluate(later(46), []);
    expect(calls('/generic', 'resolved')).toHaveLength(1);
    expect(calls('/slack', 'resolved')).toHaveLength(1);
    expect(received).toHaveLength(4);
  });

  it("a failed job's alert resolves with the job's next success, before any evaluation", async () => {
    await ledgerRow('extract_exam_results', 'FAILED', '2026-03-08', { error: 'connection refused by the source' });
    await evaluate(new Date().toISOString(), []);
    expect(await listAlerts(db.warehouse, { openOnly: true })).toMatchObject([{ rule: 'failed_job' }]);
    // A later attempt succeeds through the ledger, the way every node's activity records it.
    const { runLedgeredJob } = await import('../../../src/runtime/ledger/job-runner.js');
    await runLedgeredJob(
      db.warehouse,
      { jobName: 'extract_exam_results', pipeline: 'learning-sample', targetDate: '2026-03-08', force: true },
      async () => ({ processed: 3 }),
    );
    expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
    // The next evaluation announces it as resolved, once, and does not open it again.
    await evaluate(new Date(Date.now() + 60_000).toISOString(), []);
    expect(calls('/generic', 'resolved')).toHaveLength(1);
    expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
  });

  it('judges a schedule only once it has had time to run, and a later success counts as on time', async () => {
    // Schedule applied on the 9th at 01:00: the run for the 8th fires on the 9th, after it existed
    // for part of the day only — not due; no run in the ledger at all, still no overdue alert.
    const applied: Expectation[] = [{ ...nightly[0]!, scheduledSince: new Date('2026-03-09T01:00:00Z') }];
    await evaluate('2026-03-09T07:00:00Z', applied);
    expect(await listAlerts(db.warehouse)).toEqual([]);
    // A day later the run for the 9th was due: now it is overdue.
    await evaluate('2026-03-10T07:00:00Z', applied);
    expect((await listAlerts(db.warehouse)).map((a) => [a.rule, a.resolved_at])).toEqual([['overdue', null]]);
    // It just succeeded (for a later date than judged): on time, resolved.
    for (const n of learningSample.nodes) await ledgerRow(n.id, 'SUCCESS', '2026-03-10');
    await evaluate('2026-03-10T07:15:00Z', applied);
    expect((await listAlerts(db.warehouse, { openOnly: true })).length).toBe(0);
  });

  it('a node retrying past ALERT_RETRYING_AFTER opens a retrying alert, resolved when retries stop', async () => {
    const now = new Date('2026-03-09T12:00:00Z');
    const node = (minutesAgo: number) => ({
      workflowId: 'learnsync-school-api-incremental-x',
      nodeId: 'school_reference',
      activity: 'syncSchoolTables',
      attempt: 9,
      maximumAttempts: null,
      lastFailure: 'the school API: no answer (unreachable after 7 attempts: fetch failed)',
      cause: 'network',
      lastAttemptAt: null,
      nextRetryAt: null,
      givesUpAt: '2026-03-09T15:00:00.000Z',
      retryingSince: new Date(now.getTime() - minutesAgo * 60_000).toISOString(),
    });
    const run = (minutesAgo: number | undefined) =>
      runAlerts(
        { warehouse: db.warehouse, config },
        {
          now,
          expectations: [],
          backoffMs: 5,
          retrying: new Map(minutesAgo === undefined ? [] : [['school-api-incremental', [node(minutesAgo)]]]),
        },
      );
    await run(5); // default ALERT_RETRYING_AFTER is 10m: not yet
    expect(await listAlerts(db.warehouse)).toEqual([]);
    await run(11);
    const [open] = await listAlerts(db.warehouse, { openOnly: true });
    expect(open).toMatchObject({ rule: 'retrying', pipeline: 'school-api-incremental' });
    expect(open!.message).toMatch(/retrying for 11 min: school_reference retrying \(attempt 9.*unreachable after 7/);
    await run(undefined);
    expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
  });

  it('CDC behind its threshold warns, a stopped capture is critical, both resolve when it catches up', async () => {
    const now = new Date('2026-03-09T12:00:00Z');
    const state = (lagSeconds: number, measuredMinutesAgo: number) =>
      db.warehouse.query(
        `INSERT INTO cdc_slot_state (source, slot_name, publication, applied_lsn, lag_seconds, lag_bytes,
                                     lag_measured_at, lag_alert_seconds)
         VALUES ('oltp', 'learnsync_oltp', 'learnsync_cdc', '0/0', $1, 52428800, $2, 60)
         ON CONFLICT (source) DO UPDATE SET lag_seconds = $1, lag_measured_at = $2`,
        [lagSeconds, new Date(now.getTime() - measuredMinutesAgo * 60_000)],
      );
    const run = () =>
      runAlerts({ warehouse: db.warehouse, config }, { now, expectations: [], backoffMs: 5, retrying: new Map() });
    try {
      await state(30, 1);
      await run();
      expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
      await state(95, 1);
      await run();
      const [behind] = await listAlerts(db.warehouse, { openOnly: true });
      expect(behind).toMatchObject({ rule: 'cdc_lag', subject: 'oltp', severity: 'warning' });
      expect(behind!.message).toMatch(/95 s behind .*WAREHOUSE_CDC_LAG_ALERT_SECONDS=60.*holds 50 MB of WAL/);
      await state(95, 30);
      await run();
      const [stopped] = await listAlerts(db.warehouse, { openOnly: true });
      expect(stopped!.message).toMatch(/has not run for 30 min .*learnsync cdc start oltp/);
      await state(2, 0);
      await run();
      expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
      // 50 MB held with 10 MB left before max_slot_wal_keep_size: 83% of the limit, critical
      await db.warehouse.query(
        "UPDATE cdc_slot_state SET safe_wal_bytes = 10485760, wal_status = 'extended' WHERE source = 'oltp'",
      );
      await run();
      const [near] = await listAlerts(db.warehouse, { openOnly: true });
      expect(near).toMatchObject({ rule: 'cdc_lag', subject: 'oltp', severity: 'critical' });
      expect(near!.message).toMatch(/retains 83% of max_slot_wal_keep_size .*learnsync cdc status oltp/);
      await db.warehouse.query("UPDATE cdc_slot_state SET safe_wal_bytes = 1073741824 WHERE source = 'oltp'");
      await run();
      expect(await listAlerts(db.warehouse, { openOnly: true })).toEqual([]);
    } finally {
      await db.warehouse.query('DELETE FROM cdc_slot_state');
    }
  });

  it('retries a receiver that fails, and keeps an undelivered event for the next evaluation', async () => {
    await ledgerRow('load_dashboard', 'FAILED', null, { error: 'disk full' });
    failNext = 1; // the first POST fails, its retry succeeds
    await evaluate(new Date().toISOString(), []);
    expect(calls('/generic', 'opened')).toHaveLength(1);
    expect(calls('/slack', 'opened')).toHaveLength(1);

    await db.warehouse.query('TRUNCATE alerts');
    received = [];
    failNext = 100; // every attempt fails: the event stays owed, with the reason, and no URL in it
    await evaluate(new Date().toISOString(), []);
    const [owed] = await listAlerts(db.warehouse);
    expect(owed!.notified_at).toBeNull();
    expect(owed!.last_notify_error).toMatch(/failed after 3 attempts: HTTP 503/);
    expect(owed!.last_notify_error).not.toContain('secret');
    failNext = 0;
    await evaluate(new Date().toISOString(), []);
    expect(calls('/generic', 'opened')).toHaveLength(1);
  });

  it('runs as the alerts pipeline through the generic DAG workflow', async () => {
    await ledgerRow('load_dashboard', 'FAILED', null, { error: 'disk full' });
    let env: TestWorkflowEnvironment | undefined;
    try {
      env = await createTimeSkippingEnv();
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'alerts',
        activities: createAlertActivities({
          warehouse: db.warehouse,
          logger: createLogger({ level: 'silent' }),
          config,
        }),
        ...bundledWorkerOptions(),
      });
      const result = await worker.runUntil(
        env.client.workflow.execute(runPipeline, {
          taskQueue: 'alerts',
          workflowId: 'alerts-test',
          args: [{ pipeline: alertsPipeline.name }],
        }),
      );
      expect(result.status).toBe('SUCCESS');
      expect(result.nodes[0]).toMatchObject({ id: 'evaluate_alerts', state: 'succeeded' });
      expect(result.rows).toBeGreaterThanOrEqual(1); // the failed job, plus overdue pipelines of the real schedules
      expect(calls('/generic', 'opened').map((c) => c.body.alert!.subject)).toContain('load_dashboard');
    } finally {
      await env?.teardown();
    }
  });
});
