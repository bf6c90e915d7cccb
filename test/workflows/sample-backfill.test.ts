// Workflow tier with real activities: a 60-date backfill of the learning-sample pipeline into a
// real Postgres, then the same backfill again, which must only record SKIPPED.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { learningSample } from '../../src/pipelines/learning-sample/definition.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { backfillPipeline } from '../../src/workflows/backfill.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';
import { createSourceClients } from '../../src/stack/source-clients.js';

let env: TestWorkflowEnvironment;
let db: TestDatabases;
const FROM = '2026-01-01';
const TO = '2026-03-01'; // 60 dates
const JOBS = learningSample.nodes.map((n) => n.id);

beforeAll(async () => {
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
  await seedSampleSource(db.oltp, { from: FROM, to: TO, examsPerDay: 40, users: 120 });
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
});

const ledger = async () =>
  (
    await db.warehouse.query<{ job_name: string; status: string; runs: number; dates: number }>(
      `SELECT job_name, status, count(*)::int AS runs, count(DISTINCT target_date)::int AS dates
         FROM etl_job_runs GROUP BY job_name, status ORDER BY job_name, status`,
    )
  ).rows;

const factsChecksum = async () =>
  (
    await db.warehouse.query(
      `SELECT md5(string_agg(concat_ws('|', target_date, result_id, user_id, score), ','
        ORDER BY target_date, result_id)) AS s FROM mart.sample_exam_facts`,
    )
  ).rows[0].s as string;

it('backfills 60 dates 4 at a time with one SUCCESS per job and date; a repeat only records SKIPPED', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'sample-backfill',
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: mkdtempSync(path.join(tmpdir(), 'bf-out-')),
      logger: createLogger({ level: 'silent' }),
      config: loadConfig({}),
      sources: createSourceClients(loadConfig({})),
    }),
    maxConcurrentActivityTaskExecutions: 8,
    ...bundledWorkerOptions(),
  });
  const run = (workflowId: string) =>
    env.client.workflow.execute(backfillPipeline, {
      taskQueue: 'sample-backfill',
      workflowId,
      args: [{ pipeline: 'learning-sample', from: FROM, to: TO, concurrency: 4, maxChildrenPerRun: 25 }],
    });

  await worker.runUntil(async () => {
    const first = await run('bf-first');
    expect(first).toMatchObject({ total: 60, succeeded: 60, failed: [], continuedAsNew: 2 });
    expect(await ledger()).toEqual(
      JOBS.sort().map((job_name) => ({ job_name, status: 'SUCCESS', runs: 60, dates: 60 })),
    );
    const facts = await db.warehouse.query(
      `SELECT count(*)::int AS n, count(DISTINCT target_date)::int AS d FROM mart.sample_exam_facts`,
    );
    const rejects = await db.warehouse.query(`SELECT count(*)::int AS n FROM etl_rejects`);
    expect(facts.rows[0].d).toBe(60);
    expect(facts.rows[0].n + rejects.rows[0].n).toBe(60 * 40);
    const checksum = await factsChecksum();

    // Its history holds only the last run's children: bounded whatever the range.
    const history = await env.client.workflow.getHandle('bf-first').fetchHistory();
    expect(history.events!.length).toBeLessThan(250);

    const second = await run('bf-second');
    expect(second).toMatchObject({ succeeded: 60, rows: 0 });
    const after = await ledger();
    for (const job of JOBS) {
      expect(after).toContainEqual({ job_name: job, status: 'SUCCESS', runs: 60, dates: 60 });
      expect(after).toContainEqual({ job_name: job, status: 'SKIPPED', runs: 60, dates: 60 });
    }
    expect(await factsChecksum()).toBe(checksum);
  });
});
