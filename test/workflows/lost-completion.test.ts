// Exactly-once under lost completions: an activity that committed its work and its SUCCESS row
// but whose completion never reached Temporal (it threw after COMMIT, or its worker died) is
// retried; the retry finds its own run's SUCCESS and returns it, even for a forced run. A later,
// separate forced run redoes the work.
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NodeInput, PipelineDefinition } from '../../src/pipelines/types.js';
import { guardActivities } from '../../src/runtime/activity-guard.js';
import { runLedgeredJob } from '../../src/runtime/ledger/job-runner.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let db: TestDatabases;
beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
  await db.warehouse.query('CREATE TABLE loaded (target_date date, v int)');
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
});

const def: PipelineDefinition = {
  name: 'lost-completion',
  kind: 'nightly',
  description: '',
  nodes: [
    { id: 'load_once', activity: 'load', timeouts: { heartbeatSeconds: 2 }, retry: { initialIntervalSeconds: 1 } },
  ],
};

/** Appends 10 rows (no delete: doing the work twice would show as 20) with its SUCCESS row in one transaction. */
const load = (input: NodeInput) =>
  runLedgeredJob(
    db.warehouse,
    { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force },
    async (tx) => {
      const r = await tx.query(`INSERT INTO loaded SELECT $1::date, g FROM generate_series(1, 10) g`, [
        input.targetDate,
      ]);
      return { processed: 10, inserted: r.rowCount ?? 0 };
    },
  );

const count = async (sql: string, date: string) => (await db.warehouse.query(sql, [date])).rows[0].n as number;
const successRows = (date: string) =>
  count(
    `SELECT count(*)::int AS n FROM etl_job_runs
      WHERE job_name = 'load_once' AND target_date = $1 AND status = 'SUCCESS'`,
    date,
  );
const dataRows = (date: string) => count(`SELECT count(*)::int AS n FROM loaded WHERE target_date = $1`, date);

it('a forced run whose first completion is lost after COMMIT writes one SUCCESS and loads once', async () => {
  const date = '2026-03-01';
  let attempts = 0;
  const newWorker = () =>
    Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'lost-1',
      activities: guardActivities({
        load: async (input: NodeInput) => {
          attempts++;
          const result = await load(input);
          // Committed, but the completion never reaches Temporal.
          if (Context.current().info.attempt === 1) throw new Error('worker lost its connection after COMMIT');
          return result;
        },
      }),
      ...bundledWorkerOptions(),
    });
  const run = (id: string) =>
    env.client.workflow.execute(runPipeline, {
      taskQueue: 'lost-1',
      workflowId: id,
      args: [{ pipeline: def.name, targetDate: date, force: true, definition: def }],
    });
  const first = await (await newWorker()).runUntil(run('lost-1a'));
  expect(attempts).toBe(2);
  expect(first.nodes[0]).toMatchObject({ state: 'succeeded', rows: 10 });
  expect(await successRows(date)).toBe(1);
  expect(await dataRows(date)).toBe(10);

  // A separate forced run is new work: it loads again and writes its own SUCCESS.
  attempts = 0;
  const second = await (await newWorker()).runUntil(run('lost-1b'));
  expect(second.nodes[0]).toMatchObject({ state: 'succeeded', rows: 10 });
  expect(await successRows(date)).toBe(2);
  expect(await dataRows(date)).toBe(20);
});

it('a worker that dies between COMMIT and reporting: the next worker returns the committed result', async () => {
  const date = '2026-03-02';
  let committed!: () => void;
  const committedOnce = new Promise<void>((r) => (committed = r));
  const first = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'lost-2',
    shutdownGraceTime: '100ms',
    shutdownForceTime: '500ms',
    maxCachedWorkflows: 0,
    activities: guardActivities({
      load: async (input: NodeInput) => {
        await load(input);
        committed();
        return new Promise<never>(() => {});
      },
    }),
    ...bundledWorkerOptions(),
  });
  const firstRun = first.run().catch(() => {});
  const handle = await env.client.workflow.start(runPipeline, {
    taskQueue: 'lost-2',
    workflowId: 'lost-2a',
    args: [{ pipeline: def.name, targetDate: date, force: true, definition: def }],
  });
  await committedOnce;
  first.shutdown();
  await firstRun;

  let secondCalls = 0;
  const second = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'lost-2',
    activities: guardActivities({ load: async (input: NodeInput) => (secondCalls++, load(input)) }),
    ...bundledWorkerOptions(),
  });
  const result = await second.runUntil(handle.result());
  expect(secondCalls).toBe(1);
  expect(result.nodes[0]).toMatchObject({ state: 'succeeded', rows: 10 });
  expect(await successRows(date)).toBe(1);
  expect(await dataRows(date)).toBe(10);
  const { rows } = await db.warehouse.query(
    `SELECT status FROM etl_job_runs WHERE job_name = 'load_once' AND target_date = $1`,
    [date],
  );
  expect(rows.map((r) => r.status)).toEqual(['SUCCESS']);
});
