// The warehouse pipelines in the time-skipping test server with real activities and real
// Postgres: a 30-day backfill (one SUCCESS per job per date, reruns skipped or rebuilt
// identically), and a worker lost in the middle of a fact build.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarehouseActivities } from '../../../src/pipelines/warehouse/activities.js';
import { dateRange } from '../../../src/pipelines/dates.js';
import { warehouseFacts, warehouseNightly } from '../../../src/pipelines/warehouse/definition.js';
import { seedWarehouseDemo } from '../../../src/pipelines/warehouse/sample/demo-seed.js';
import { backfillPipeline } from '../../../src/workflows/backfill.js';
import { runPipeline } from '../../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';
import { activityDeps, allFactChecksums, factChecksum } from './helpers.js';

const FROM = '2026-01-01';
const TO = '2026-01-30';

let env: TestWorkflowEnvironment;
let dbs: TestDatabases;
beforeAll(async () => {
  [env, dbs] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
  await seedWarehouseDemo({
    oltp: dbs.oltp,
    warehouse: dbs.warehouse,
    from: FROM,
    to: TO,
    scale: { tenants: 2, learners: 150, eventsPerDay: 400 },
  });
});
afterAll(async () => {
  await env?.teardown();
  await dbs?.close();
});

const worker = (taskQueue: string, opts: { shutdownGraceTime?: string; maxCachedWorkflows?: number } = {}) =>
  Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities: createWarehouseActivities(activityDeps(dbs)),
    // Like the real worker: fewer activities at once than warehouse connections (runLedgeredJob briefly needs a second
    // one).
    maxConcurrentActivityTaskExecutions: 4,
    ...opts,
    ...bundledWorkerOptions(),
  });

async function statusCounts() {
  const { rows } = await dbs.warehouse.query<{ job_name: string; d: string; success: number; other: number }>(
    `SELECT job_name, to_char(target_date, 'YYYY-MM-DD') AS d,
            count(*) FILTER (WHERE status = 'SUCCESS')::int AS success,
            count(*) FILTER (WHERE status NOT IN ('SUCCESS', 'SKIPPED'))::int AS other
       FROM etl_job_runs WHERE target_date IS NOT NULL GROUP BY 1, 2`,
  );
  return rows;
}

describe('warehouse pipelines', () => {
  it(
    'backfills warehouse-nightly over 30 days: exactly one SUCCESS per job per date; ' +
      'a rerun skips, a forced one rebuilds identically',
    async () => {
      const w = await worker('wh-backfill');
      await w.runUntil(async () => {
        const result = await env.client.workflow.execute(backfillPipeline, {
          taskQueue: 'wh-backfill',
          workflowId: 'wh-backfill-30',
          args: [{ pipeline: 'warehouse-nightly', from: FROM, to: TO, concurrency: 4 }],
        });
        expect(result).toMatchObject({ total: 30, succeeded: 30, failed: [] });
        const counts = await statusCounts();
        expect(counts).toHaveLength(30 * warehouseNightly.nodes.length);
        expect(counts.every((c) => c.success === 1 && c.other === 0)).toBe(true);
        expect(new Set(counts.map((c) => c.d))).toEqual(new Set(dateRange(FROM, TO)));
        const perDay = await dbs.warehouse.query<{ days: number }>(
          'SELECT count(DISTINCT date_key)::int AS days FROM dw.fact_sessions',
        );
        expect(perDay.rows[0]!.days).toBe(30);

        const before = await allFactChecksums(dbs.warehouse);
        const again = await env.client.workflow.execute(runPipeline, {
          taskQueue: 'wh-backfill',
          workflowId: 'wh-rerun',
          args: [{ pipeline: 'warehouse-facts', targetDate: '2026-01-15' }],
        });
        expect(again.nodes.every((n) => n.state === 'skipped')).toBe(true);
        const forced = await env.client.workflow.execute(backfillPipeline, {
          taskQueue: 'wh-backfill',
          workflowId: 'wh-backfill-forced',
          args: [{ pipeline: 'warehouse-facts', from: '2026-01-14', to: '2026-01-16', force: true }],
        });
        expect(forced).toMatchObject({ succeeded: 3, failed: [] });
        expect(await allFactChecksums(dbs.warehouse)).toEqual(before);
      });
      const sessions = (await statusCounts()).filter((c) => c.job_name === 'build_fact_sessions');
      expect(
        sessions
          .filter((c) => c.success === 2)
          .map((c) => c.d)
          .sort(),
      ).toEqual(['2026-01-14', '2026-01-15', '2026-01-16']);
    },
  );

  it(
    'a worker lost in the middle of a fact build: ' +
      'the partition is never half-written, and the retry leaves exactly one copy',
    async () => {
      const D = '2026-01-20';
      // Built by the backfill above; built here when this test runs alone (then the first ledger row is this one).
      const direct = createWarehouseActivities(activityDeps(dbs));
      for (const n of warehouseFacts.nodes) {
        await direct[n.activity as keyof typeof direct]({
          pipeline: 'warehouse-facts',
          nodeId: n.id,
          targetDate: D,
          force: false,
          params: {},
        });
      }
      const original = await factChecksum(dbs.warehouse, 'dw.fact_sessions', 20260120);
      expect(original.rows).toBeGreaterThan(0);

      // Hold the build at its transform (after it deleted the partition and staged the day) by locking a dimension it
      // reads.
      const locker = new pg.Client({ connectionString: dbs.warehouseUrl });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE dw.dim_learner IN ACCESS EXCLUSIVE MODE');

      // No workflow cache: a dead worker's sticky queue would otherwise hold the run's next workflow task until it
      // times out.
      const first = await worker('wh-crash', { shutdownGraceTime: '20s', maxCachedWorkflows: 0 });
      const firstRun = first.run();
      try {
        const handle = await env.client.workflow.start(runPipeline, {
          taskQueue: 'wh-crash',
          workflowId: 'wh-crash-run',
          args: [{ pipeline: 'warehouse-facts', targetDate: D, force: true }],
        });
        // The build that deleted rows of the partition (it holds a row lock on it) and now waits for the dimension.
        let pid: number | undefined;
        for (let i = 0; i < 300 && !pid; i++) {
          const r = await locker.query<{ pid: number }>(
            `SELECT w.pid FROM pg_locks w JOIN pg_locks d ON d.pid = w.pid
            WHERE w.relation = 'dw.dim_learner'::regclass AND NOT w.granted
              AND d.relation = 'dw.fact_sessions_p202601'::regclass AND d.mode = 'RowExclusiveLock' AND d.granted`,
          );
          pid = r.rows[0]?.pid;
          if (!pid) await new Promise((r) => setTimeout(r, 100));
        }
        expect(pid).toBeDefined();
        // Mid-build, everyone else still sees the old partition, whole.
        expect(await factChecksum(dbs.warehouse, 'dw.fact_sessions', 20260120)).toEqual(original);

        // The worker dies: it stops taking work and its database connection drops mid-transaction.
        const shutdown = first.shutdown();
        await locker.query('SELECT pg_terminate_backend($1)', [pid]);
        await locker.query('COMMIT');
        await shutdown;
        await firstRun;

        const second = await worker('wh-crash');
        const result = await second.runUntil(handle.result());
        expect(result.status).toBe('SUCCESS');
      } finally {
        await locker.end().catch(() => {});
        if (first.getState() === 'RUNNING') first.shutdown();
        await firstRun.catch(() => {});
      }

      const after = await factChecksum(dbs.warehouse, 'dw.fact_sessions', 20260120);
      expect(after).toEqual(original);
      const dup = await dbs.warehouse.query<{ rows: number; sessions: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT session_id)::int AS sessions FROM dw.fact_sessions ' +
          'WHERE date_key = 20260120',
      );
      expect(dup.rows[0]).toEqual({ rows: original.rows, sessions: original.rows });
      const runs = await dbs.warehouse.query<{ status: string; error_message: string | null }>(
        `SELECT status, error_message FROM etl_job_runs WHERE job_name = 'build_fact_sessions' AND target_date = $1
        AND status <> 'SKIPPED' ORDER BY started_at`,
        [D],
      );
      expect(runs.rows.map((r) => r.status)).toEqual(['SUCCESS', 'FAILED', 'SUCCESS']);
      expect(runs.rows[1]!.error_message).toMatch(/terminat/i);
      // The other facts of the run were not disturbed.
      for (const n of warehouseFacts.nodes.filter((n) => n.id !== 'build_fact_sessions')) {
        const statuses = await dbs.warehouse.query(
          `SELECT status FROM etl_job_runs WHERE job_name = $1 AND target_date = $2 AND status <> 'SKIPPED'
          ORDER BY started_at`,
          [n.id, D],
        );
        expect(
          statuses.rows.map((r) => r.status),
          n.id,
        ).toEqual(['SUCCESS', 'SUCCESS']);
      }
    },
  );
});
