// `learnsync serve` against a real Temporal dev server, a real worker (with the metrics
// interceptor and the SDK's Prometheus exporter) and the learning-sample pipeline's real
// activities: runs and backfills triggered through the API with the CLI's ids, duplicates
// refused with the running id, runs listed and shown with their DAG, schedules paused and
// triggered, every route tried with no token, a read token and an admin token, and /metrics
// carrying both the SDK's and learnsync's series after a run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { getPipeline } from '../../src/pipelines/registry.js';
import { runWorkflowId } from '../../src/schedules/start-runs.js';
import { activityInterceptors } from '../../src/runtime/activity-interceptor.js';
import { NO_ERROR_REPORTER } from '../../src/runtime/error-reporting.js';
import { sdkMetricsTelemetry } from '../../src/runtime/worker-metrics.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { applySchedules } from '../../src/schedules/manage.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken } from '../../src/server/tokens.js';
import { temporalCliPath } from '../../src/stack/tools.js';
import { workerDeployment } from '../../src/runtime/worker-options.js';
import { freePort, startTemporalDevServer, type TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, projectRoot } from '../support/temporal.js';

let temporal: TemporalHandle;
let db: TestDatabases;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let worker: Worker;
let workerRun: Promise<void> | undefined;
let server: RunningServer;
let config: Config;
let admin: string;
let reader: string;
const TASK_QUEUE = 'serve-runs';
const RUN_DATE = '2026-01-03';

beforeAll(async () => {
  // The SDK's exporter has to be part of the runtime before the first connection.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } }, ...(await sdkMetricsTelemetry()) },
  });
  [temporal, db] = await Promise.all([
    startTemporalDevServer({ cliPath: temporalCliPath(projectRoot), port: await freePort(), uiPort: await freePort() }),
    createTestDatabases(),
  ]);
  await seedSampleSource(db.oltp, { from: '2026-01-01', to: '2026-01-05', examsPerDay: 30, users: 60 });
  config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    LEARNSYNC_OUTPUT_DIR: mkdtempSync(path.join(tmpdir(), 'serve-runs-')),
  });
  connection = await Connection.connect({ address: temporal.address });
  client = new Client({ connection });
  native = await NativeConnection.connect({ address: temporal.address });
  const logger = createLogger({ level: 'silent' });
  worker = await Worker.create({
    connection: native,
    taskQueue: TASK_QUEUE,
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: config.outputDir,
      logger,
      config,
      sources: createSourceClients(config),
    }),
    interceptors: { activity: [activityInterceptors(NO_ERROR_REPORTER)] },
    // As the real worker: its build (LEARNSYNC_BUILD_ID, `dev` here) is what /api/runs/:id shows.
    workerDeploymentOptions: workerDeployment(config.worker),
    ...bundledWorkerOptions(),
  });
  server = await startServer(
    {
      config,
      logger,
      warehouse: db.warehouse,
      temporal: async () => client,
      uiUrl: 'http://ui.example',
      kusto: createSourceClients(config).kusto,
    },
    { host: '127.0.0.1', port: 0 },
  );
  admin = (await createToken(db.warehouse, 'admin', 'admin')).token;
  reader = (await createToken(db.warehouse, 'reader', 'read')).token;
});
afterAll(async () => {
  if (workerRun) {
    worker.shutdown();
    await workerRun;
  }
  await server?.close();
  await connection?.close();
  await native?.close();
  await temporal?.stop();
  await db?.close();
});

async function api(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

async function eventually<T>(fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const runId = runWorkflowId(getPipeline('learning-sample')!, RUN_DATE);
const backfillId = 'learnsync-backfill-learning-sample-2026-01-01-2026-01-02';

describe('triggers', () => {
  it('starts a run and a backfill with the CLI ids and refuses duplicates with the running id', async () => {
    // No worker yet: both stay running, so the duplicates meet them.
    const run = await api('POST', '/api/pipelines/learning-sample/runs', admin, { date: RUN_DATE });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({
      workflowId: runId,
      targetDate: RUN_DATE,
      force: false,
      webUrl: `http://ui.example/namespaces/default/workflows/${runId}`,
    });
    const dup = await api('POST', '/api/pipelines/learning-sample/runs', admin, { date: RUN_DATE, force: true });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'already_running', workflowId: runId });

    const bf = await api('POST', '/api/pipelines/learning-sample/backfills', admin, {
      from: '2026-01-01',
      to: '2026-01-02',
      concurrency: 2,
    });
    expect(bf.status).toBe(202);
    expect(bf.body).toMatchObject({ workflowId: backfillId, dates: 2, concurrency: 2 });
    const bfDup = await api('POST', '/api/pipelines/learning-sample/backfills', admin, {
      from: '2026-01-01',
      to: '2026-01-02',
    });
    expect(bfDup.status).toBe(409);
    expect(bfDup.body.error.workflowId).toBe(backfillId);

    workerRun = worker.run();
    await client.workflow.getHandle(runId).result();
    await client.workflow.getHandle(backfillId).result();
  });

  it('shows the run in /api/runs with its rows from the ledger, and its DAG with node states', async () => {
    const ledger = await db.warehouse.query(
      `SELECT sum(rows_processed)::int AS rows FROM etl_job_runs WHERE workflow_id = $1 AND status = 'SUCCESS'`,
      [runId],
    );
    expect(ledger.rows[0].rows).toBeGreaterThan(0);
    const listed = await eventually(async () => {
      const r = await api('GET', '/api/runs?pipeline=learning-sample&status=completed&kind=run', reader);
      return r.body.runs?.find((x: { workflowId: string }) => x.workflowId === runId);
    });
    expect(listed).toMatchObject({
      kind: 'run',
      pipeline: 'learning-sample',
      targetDate: RUN_DATE,
      status: 'COMPLETED',
      rows: ledger.rows[0].rows,
      rejected: 0,
    });

    const detail = await api('GET', `/api/runs/${runId}`, reader);
    expect(detail.status).toBe(200);
    expect(detail.body.dag.status).toBe('SUCCESS');
    expect(detail.body.workerBuildId).toBe('dev'); // LEARNSYNC_BUILD_ID's default: the worker that ran it
    const nodes = detail.body.dag.nodes as Array<{
      id: string;
      state: string;
      dependsOn: string[];
      durationMs: number;
    }>;
    expect(nodes.map((n) => n.id).sort()).toEqual(
      getPipeline('learning-sample')!
        .nodes.map((n) => n.id)
        .sort(),
    );
    expect(nodes.every((n) => n.state === 'succeeded' && n.durationMs >= 0)).toBe(true);
    expect(nodes.find((n) => n.id === 'resolve_identities')!.dependsOn.sort()).toEqual([
      'extract_exam_results',
      'extract_user_emails',
    ]);
    expect(detail.body.jobs.filter((j: { status: string }) => j.status === 'SUCCESS')).toHaveLength(nodes.length);
  });

  it('shows the backfill with its progress', async () => {
    const listed = await eventually(async () => {
      const r = await api('GET', '/api/runs?kind=backfill', reader);
      return r.body.runs?.find(
        (x: { workflowId: string; status: string }) => x.workflowId === backfillId && x.status === 'COMPLETED',
      );
    });
    expect(listed.kind).toBe('backfill');
    const detail = await api('GET', `/api/runs/${backfillId}`, reader);
    expect(detail.body.backfill).toMatchObject({ total: 2, done: 2, succeeded: 2, failed: [] });
  });

  it('answers 404 for an unknown workflow and lists the pipeline with its last run', async () => {
    expect((await api('GET', '/api/runs/learnsync-nothing-2020-01-01', reader)).status).toBe(404);
    const pipelines = await api('GET', '/api/pipelines', reader);
    const p = pipelines.body.pipelines.find((x: { name: string }) => x.name === 'learning-sample');
    expect(p.lastRun.status).toBe('SUCCESS');
    expect(p.successRate7d).toBe(1);
  });
});

describe('schedules', () => {
  it('pauses, unpauses and triggers a learnsync schedule (admin only)', async () => {
    await applySchedules(client, TASK_QUEUE, [
      { id: 'learnsync-test-sample', pipeline: 'learning-sample-incremental', description: 'test', every: '1h' },
    ]);
    expect((await api('POST', '/api/schedules/learnsync-test-sample/pause', reader)).status).toBe(403);
    expect((await api('POST', '/api/schedules/learnsync-test-sample/pause', admin)).body).toMatchObject({
      paused: true,
    });
    expect((await client.schedule.getHandle('learnsync-test-sample').describe()).state.paused).toBe(true);
    expect((await api('POST', '/api/schedules/learnsync-test-sample/unpause', admin)).body).toMatchObject({
      paused: false,
    });
    const before = (await client.schedule.getHandle('learnsync-test-sample').describe()).info.recentActions.length;
    expect((await api('POST', '/api/schedules/learnsync-test-sample/trigger', admin)).status).toBe(200);
    await eventually(async () =>
      (await client.schedule.getHandle('learnsync-test-sample').describe()).info.recentActions.length > before
        ? true
        : undefined,
    );
    expect((await api('POST', '/api/schedules/learnsync-missing/trigger', admin)).status).toBe(404);
    const listed = await api('GET', '/api/schedules', reader);
    expect(listed.body.schedules.map((s: { id: string }) => s.id)).toContain('learnsync-test-sample');
  });
});

describe('every route with no token, a read token and an admin token', () => {
  const routes: Array<{ method: string; path: string; role: 'open' | 'read' | 'admin'; body?: unknown; ok: number }> = [
    { method: 'GET', path: '/healthz', role: 'open', ok: 200 },
    { method: 'GET', path: '/readyz', role: 'open', ok: 200 },
    { method: 'GET', path: '/metrics', role: 'open', ok: 200 },
    { method: 'GET', path: '/openapi.json', role: 'open', ok: 200 },
    { method: 'GET', path: '/', role: 'open', ok: 200 },
    { method: 'GET', path: '/api/pipelines', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/runs', role: 'read', ok: 200 },
    { method: 'GET', path: `/api/runs/${runId}`, role: 'read', ok: 200 },
    { method: 'GET', path: '/api/schedules', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/sync-status', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/alerts', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/dashboard/overview', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/dashboard/learning-roi', role: 'read', ok: 200 },
    { method: 'GET', path: '/api/learners/nobody%40example.com/exams', role: 'admin', ok: 200 },
    {
      method: 'POST',
      path: '/api/pipelines/learning-sample/runs',
      role: 'admin',
      body: { date: '2026-01-04' },
      ok: 202,
    },
    {
      method: 'POST',
      path: '/api/pipelines/learning-sample/backfills',
      role: 'admin',
      body: { from: '2026-01-04', to: '2026-01-05' },
      ok: 202,
    },
    { method: 'POST', path: '/api/schedules/learnsync-test-sample/pause', role: 'admin', ok: 200 },
    { method: 'POST', path: '/api/schedules/learnsync-test-sample/unpause', role: 'admin', ok: 200 },
    { method: 'POST', path: '/api/schedules/learnsync-test-sample/trigger', role: 'admin', ok: 200 },
  ];

  it.each(routes)('$method $path ($role)', async (r) => {
    const none = await api(r.method, r.path, undefined, r.body);
    const read = await api(r.method, r.path, reader, r.body);
    if (r.role === 'open') {
      expect(none.status).toBe(r.ok);
      return;
    }
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    if (r.role === 'read') expect(read.status).toBe(r.ok);
    else {
      expect(read.status).toBe(403);
      expect(read.body.error.code).toBe('forbidden');
    }
    const adm = await api(r.method, r.path, admin, r.body);
    if (r.role === 'admin' || r.role === 'read')
      expect([r.ok, ...(r.path.includes('learners') ? [503] : [])]).toContain(adm.status);
  });
});

describe('metrics', () => {
  it("exposes the Temporal SDK's worker series and learnsync's job and ledger series after a run", async () => {
    const text = (await api('GET', '/metrics')).body as string;
    expect(text).toMatch(/^temporal_\w+/m);
    expect(text).toMatch(
      /^learnsync_job_rows_total\{pipeline="learning-sample",job="extract_exam_results",kind="read"\} [1-9]\d*/m,
    );
    expect(text).toMatch(
      /^learnsync_ledger_runs_total\{pipeline="learning-sample",job="load_dashboard",status="SUCCESS"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^learnsync_ledger_last_success_timestamp_seconds\{job="aggregate_daily_exam_stats",pipeline="learning-sample"\} \d{10}/m,
    );
    expect(text).toMatch(/^learnsync_http_requests_total\{route="\/api\/runs",method="GET",status="2xx"\} \d+/m);
    expect(text).not.toMatch(/2026-01-0\d|@example\.com/); // no dates or e-mails as labels
  });
});
