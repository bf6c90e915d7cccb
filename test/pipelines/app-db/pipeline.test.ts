// The registered app-db pipelines run by a real worker in the time-skipping Temporal server,
// against the real bqemulator: one node per table, a failing table fails alone and is reported to
// the error tracker (a local fake Bugsnag collector), and a Postgres application database syncs
// the same way as SQLite.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresSource } from '../../../src/connectors/app-db/postgres.js';
import { createAppDbActivities } from '../../../src/pipelines/app-db/activities.js';
import { appDbIncremental, appDbFull } from '../../../src/pipelines/app-db/definition.js';
import { planAppDbIncremental } from '../../../src/pipelines/app-db/plan.js';
import { APP_DB_TABLES } from '../../../src/pipelines/app-db/definition.js';
import { getPipeline } from '../../../src/pipelines/registry.js';
import { SCHEDULES } from '../../../src/pipelines/schedules.js';
import type { PipelineProgress } from '../../../src/pipelines/types.js';
import type { BigQueryEmulatorHandle } from '../../../src/stack/bigquery-emulator.js';
import { runPipeline } from '../../../src/workflows/run-dag.js';
import { activityInterceptors } from '../../../src/runtime/activity-interceptor.js';
import { createErrorReporter, type ErrorReporter } from '../../../src/runtime/error-reporting.js';
import { guardActivities } from '../../../src/runtime/activity-guard.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';
import {
  appDbFixture,
  bqCount,
  bqRows,
  emulatorAvailable,
  quietLogger,
  startEmulator,
  type AppDbFixture,
} from './support.js';

interface Report {
  apiKey: string;
  events: Array<{
    context: string;
    exceptions: Array<{ errorClass: string; message: string }>;
    metaData: { sync: Record<string, unknown> };
  }>;
}

function fakeBugsnag(): Promise<{ url: string; reports: Report[]; close(): Promise<void> }> {
  const reports: Report[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        reports.push(JSON.parse(body) as Report);
      } catch {
        /* not a report */
      }
      res.writeHead(200).end('OK');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        reports,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

describe('app-db pipelines', () => {
  it('are registered with their schedules, one node per table', () => {
    expect(getPipeline('app-db-incremental')!.nodes.map((n) => n.input!.table)).toEqual(
      APP_DB_TABLES.map((t) => t.name),
    );
    expect(getPipeline('app-db-full')!.nodes).toHaveLength(APP_DB_TABLES.length);
    expect(SCHEDULES.find((s) => s.pipeline === 'app-db-incremental')!.every).toBe('15m');
    expect(SCHEDULES.find((s) => s.pipeline === 'app-db-full')!.cron).toEqual(['0 2 * * *']);
  });
});

describe.skipIf(!emulatorAvailable)('app-db pipelines on a worker (bqemulator)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabases;
  let emulator: BigQueryEmulatorHandle;
  let bugsnag: Awaited<ReturnType<typeof fakeBugsnag>>;
  let f: AppDbFixture;
  let workerReporter: ErrorReporter;
  // One outage on the way to BigQuery (a connection reset before the MERGE) for the table named here.
  let outageTable: string | undefined;
  const outageAt = async (table: string) => {
    if (table !== outageTable) return;
    outageTable = undefined;
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  };

  beforeAll(async () => {
    [env, db, emulator, bugsnag] = await Promise.all([
      createTimeSkippingEnv(),
      createTestDatabases(),
      startEmulator(),
      fakeBugsnag(),
    ]);
    f = await appDbFixture(db, emulator, {
      BUGSNAG_API_KEY: '0123456789abcdef0123456789abcdef',
      BUGSNAG_NOTIFY_URL: bugsnag.url,
    });
    // As the worker wires it: the activity interceptor reports failed activities too.
    workerReporter = createErrorReporter(f.config, quietLogger, 'worker');
  });
  afterAll(async () => {
    f?.close();
    await Promise.all([emulator?.stop(), bugsnag?.close(), db?.close(), env?.teardown()]);
  });

  async function run(def: typeof appDbIncremental, taskQueue: string) {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      // As in the worker: fewer activity slots than warehouse connections (each ledgered job holds one).
      maxConcurrentActivityTaskExecutions: 4,
      interceptors: { activity: [activityInterceptors(workerReporter)] },
      // Wrapped as the worker wraps them: the retry guard turns an outage into a new failure object.
      activities: guardActivities(
        createAppDbActivities({
          warehouse: db.warehouse,
          logger: quietLogger,
          config: f.config,
          appDb: { ...f.deps, beforeApply: outageAt },
        }),
      ),
      ...bundledWorkerOptions(),
    });
    return worker.runUntil(
      env.client.workflow
        .execute(runPipeline, {
          taskQueue,
          workflowId: `${taskQueue}-wf`,
          args: [{ pipeline: def.name, definition: def }],
        })
        .then(
          (r) => r as PipelineProgress,
          (e: unknown) => e as WorkflowFailedError,
        ),
    );
  }

  it('syncs every table, each in its own node; a failing table fails alone and reaches the error tracker', async () => {
    const plan = await planAppDbIncremental(
      db.warehouse,
      await f.deps.openSource(),
      `${f.target.projectId}.${f.target.datasetId}`,
    );
    expect(plan.find((p) => p.table === 'chat_history')).toMatchObject({
      rows: 2000,
      after: 'everything (never synced)',
    });

    f.app().exec('ALTER TABLE code_drafts RENAME TO code_drafts_archive');
    outageTable = 'courses';
    const result = await run(appDbIncremental, 'app-db-pipeline-1');
    expect(result).toBeInstanceOf(WorkflowFailedError);
    const progress = ((result as WorkflowFailedError).cause as Error & { details?: unknown[] })
      .details?.[0] as PipelineProgress;
    const failed = progress.nodes.filter((n) => n.state === 'failed');
    expect(failed.map((n) => n.id)).toEqual(['app_db_code_drafts']);
    expect(failed[0]!.error).toMatch(/app-db table code_drafts does not exist/);
    expect(progress.nodes.filter((n) => n.state === 'succeeded')).toHaveLength(APP_DB_TABLES.length - 1);
    expect(progress.nodes.find((n) => n.id === 'app_db_chat_history')!.rows).toBe(2000);
    expect((await bqCount(f.target, 'chat_history')).n).toBe(2000);

    // Per table in the ledger: rows appended (inserted), merged (updated), deleted.
    const { rows } = await db.warehouse.query(
      `SELECT job_name, rows_inserted, rows_updated FROM etl_job_runs WHERE job_name IN ('app_db_chat_history',
        'app_db_users') AND status = 'SUCCESS' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { job_name: 'app_db_chat_history', rows_inserted: 2000, rows_updated: 0 },
      { job_name: 'app_db_users', rows_inserted: 0, rows_updated: expect.any(Number) },
    ]);

    // Once, not twice: the table's report (with its context) and not the interceptor's again.
    await workerReporter.flush();
    const events = bugsnag.reports.flatMap((r) => r.events);
    // Every event names its table in its context ("app-db <table>", or the interceptor's "<pipeline> / <node>").
    const about = (table: string) => events.filter((e) => e.context.includes(table));
    expect(about('code_drafts')).toHaveLength(1);
    // The outage's attempt too, although the retry guard wrapped it in a new failure; its retry succeeded.
    expect(about('courses')).toHaveLength(1);
    expect(outageTable).toBeUndefined();
    const event = about('code_drafts')[0]!;
    expect(bugsnag.reports.every((r) => r.apiKey === '0123456789abcdef0123456789abcdef')).toBe(true);
    expect(event.context).toBe('app-db code_drafts');
    expect(event.exceptions[0]).toMatchObject({ errorClass: 'ValidationError' });
    expect(event.metaData.sync).toMatchObject({
      table: 'code_drafts',
      pipeline: 'app-db-incremental',
      mode: 'incremental',
      workflowId: 'app-db-pipeline-1-wf',
      attempt: 1,
    });

    f.app().exec('ALTER TABLE code_drafts_archive RENAME TO code_drafts');
    const full = await run(appDbFull, 'app-db-pipeline-2');
    expect(full).not.toBeInstanceOf(WorkflowFailedError);
    expect((full as PipelineProgress).status).toBe('SUCCESS');
    expect((await bqCount(f.target, 'code_drafts')).n).toBeGreaterThan(0);
  });

  it('reads a Postgres application database the same way', async () => {
    await db.oltp.query(`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, first_name VARCHAR(50),
        middle_name TEXT, last_name TEXT,
      default_dp_color TEXT, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, settings JSONB,
        score NUMERIC(6,2), active BOOLEAN)`);
    await db.oltp.query(`INSERT INTO users SELECT g, 'u' || g || '@example.org', 'F' || g, NULL, 'L', NULL,
        '2025-01-01'::timestamptz + g * interval '1 minute',
      '2025-01-01'::timestamptz + g * interval '1 minute', jsonb_build_object('theme', 'dark', 'n', g), g / 3.0,
        g % 2 = 0 FROM generate_series(1, 300) g`);
    const source = openPostgresSource(db.oltpUrl);
    const pgFixture = { ...f.deps, openSource: async () => openPostgresSource(db.oltpUrl) };
    const acts = createAppDbActivities({
      warehouse: db.warehouse,
      logger: quietLogger,
      config: {
        ...f.config,
        appDb: { ...f.config.appDb, bigquery: { ...f.config.appDb.bigquery, datasetId: `${f.target.datasetId}_pg` } },
      },
      appDb: { ...pgFixture, target: async () => ({ ...f.target, datasetId: `${f.target.datasetId}_pg` }) },
    });
    const r = await acts.syncAppDbTable({
      pipeline: 'app-db-incremental',
      nodeId: 'app_db_users_pg',
      force: false,
      params: { table: 'users', mode: 'incremental' },
    });
    expect(r.rows).toBe(300);
    const pgTarget = { ...f.target, datasetId: `${f.target.datasetId}_pg` };
    const [row] = await bqRows<{ settings: string; score: unknown; active: boolean; updated_at: { value: string } }>(
      pgTarget,
      'SELECT settings, score, active, updated_at FROM $DS.users WHERE id = 4',
    );
    expect(JSON.parse(row!.settings)).toEqual({ theme: 'dark', n: 4 });
    expect(row!.active).toBe(true);
    expect(Number(String((row!.score as { value?: string })?.value ?? row!.score))).toBeCloseTo(1.33, 2);
    await db.oltp.query(`UPDATE users SET first_name = 'Changed', updated_at = now() WHERE id = 7`);
    const again = await acts.syncAppDbTable({
      pipeline: 'app-db-incremental',
      nodeId: 'app_db_users_pg',
      force: false,
      params: { table: 'users', mode: 'incremental' },
    });
    expect(again.updated).toBeGreaterThanOrEqual(1);
    expect(again.rows).toBeLessThan(5);
    const [changed] = await bqRows<{ first_name: string }>(pgTarget, 'SELECT first_name FROM $DS.users WHERE id = 7');
    expect(changed!.first_name).toBe('Changed');
    await source.close();
  });
});
