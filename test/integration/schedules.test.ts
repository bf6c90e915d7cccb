// Against a real `temporal server start-dev` (the time-skipping server has neither schedules
// nor custom search attributes): schedules applied idempotently, runs filterable in the Web UI.
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleSpecConfig } from '../../src/pipelines/schedules.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { applySchedules, specHash } from '../../src/schedules/manage.js';
import { ensureSearchAttributes, type TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from '../../src/workflows/search-attributes.js';
import { bundledWorkerOptions, startDevServer, Worker } from '../support/temporal.js';

let server: TemporalHandle;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  server = await startDevServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  await server?.stop();
});

const declared: ScheduleSpecConfig[] = [
  { id: 'learnsync-test-nightly', pipeline: 'learning-sample', description: 'nightly', cron: ['0 2 * * *'] },
  { id: 'learnsync-test-incremental', pipeline: 'learning-sample-incremental', description: '15 min', every: '15m' },
];

describe('schedules', () => {
  it(
    'creates declared schedules with overlap SKIP and a catch-up window, ' + 'and a second apply changes nothing',
    async () => {
      expect(await applySchedules(client, 'tq', declared)).toEqual({
        'learnsync-test-nightly': 'created',
        'learnsync-test-incremental': 'created',
      });
      const nightly = await client.schedule.getHandle('learnsync-test-nightly').describe();
      expect(nightly.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
      expect(nightly.policies.catchupWindow).toBe(6 * 3600 * 1000);
      expect(nightly.spec.calendars?.[0]).toMatchObject({
        hour: [{ start: 2, end: 2, step: 1 }],
        minute: [{ start: 0, end: 0, step: 1 }],
      });
      expect(nightly.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'runPipeline',
        taskQueue: 'tq',
        args: [{ pipeline: 'learning-sample', force: false }],
      });
      expect(nightly.memo?.learnsyncSpecHash).toBe(specHash(declared[0]!, 'tq'));
      const incremental = await client.schedule.getHandle('learnsync-test-incremental').describe();
      expect(incremental.spec.intervals?.[0]?.every).toBe(15 * 60 * 1000);

      const createdAt = nightly.info.createdAt.getTime();
      expect(await applySchedules(client, 'tq', declared)).toEqual({
        'learnsync-test-nightly': 'unchanged',
        'learnsync-test-incremental': 'unchanged',
      });
      const again = await client.schedule.getHandle('learnsync-test-nightly').describe();
      expect(again.info.createdAt.getTime()).toBe(createdAt);
      expect(again.info.lastUpdatedAt).toEqual(nightly.info.lastUpdatedAt);
    },
  );

  it('updates only the schedule whose declaration changed', async () => {
    const changed = [{ ...declared[0]!, cron: ['30 3 * * *'] }, declared[1]!];
    expect(await applySchedules(client, 'tq', changed)).toEqual({
      'learnsync-test-nightly': 'updated',
      'learnsync-test-incremental': 'unchanged',
    });
    const d = await client.schedule.getHandle('learnsync-test-nightly').describe();
    expect(d.spec.calendars?.[0]).toMatchObject({
      hour: [{ start: 3, end: 3, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
    });
  });
});

describe('search attributes', () => {
  it('registers them idempotently and makes runs filterable by pipeline, target date and status', async () => {
    expect(await ensureSearchAttributes(connection, 'default')).toEqual([]); // the dev server got them as flags
    const native = await NativeConnection.connect({ address: server.address });
    const def: PipelineDefinition = {
      name: 'sa-demo',
      kind: 'nightly',
      description: '',
      nodes: [{ id: 'a', activity: 'a' }],
    };
    const worker = await Worker.create({
      connection: native,
      taskQueue: 'sa',
      activities: { a: async () => ({ rows: 3 }) },
      ...bundledWorkerOptions(),
    });
    await worker.runUntil(
      client.workflow.execute(runPipeline, {
        taskQueue: 'sa',
        workflowId: 'sa-run',
        args: [{ pipeline: 'sa-demo', targetDate: '2026-04-01', definition: def }],
        typedSearchAttributes: [
          { key: PIPELINE_KEY, value: 'sa-demo' },
          { key: TARGET_DATE_KEY, value: '2026-04-01' },
          { key: STATUS_KEY, value: 'RUNNING' },
        ],
      }),
    );
    await native.close();
    const d = await client.workflow.getHandle('sa-run').describe();
    expect(d.typedSearchAttributes.get(STATUS_KEY)).toBe('SUCCESS');
    let found: string[] = [];
    for (let i = 0; i < 40 && found.length === 0; i++) {
      found = [];
      for await (const w of client.workflow.list({
        query: `LearnsyncPipeline = "sa-demo" AND LearnsyncTargetDate = "2026-04-01" AND LearnsyncStatus = "SUCCESS"`,
      }))
        found.push(w.workflowId);
      if (!found.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(found).toEqual(['sa-run']);
  });
});
