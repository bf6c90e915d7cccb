// A worker lost in the middle of a run: a new worker finishes it from where it was, without
// re-running the nodes that had already completed.
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

// transform heartbeats, so the server notices within 2 s that its worker is gone and retries it elsewhere.
const def: PipelineDefinition = {
  name: 'restart',
  kind: 'nightly',
  description: '',
  nodes: [
    { id: 'extract', activity: 'extract' },
    {
      id: 'transform',
      activity: 'transform',
      dependsOn: ['extract'],
      timeouts: { heartbeatSeconds: 2 },
      retry: { initialIntervalSeconds: 1 },
    },
    { id: 'load', activity: 'load', dependsOn: ['transform'] },
  ],
};

it('a second worker completes a run the first lost mid-way, re-running only the interrupted node', async () => {
  const taskQueue = 'restart';
  const calls = { extract: 0, transform1: 0, transform2: 0, load: 0 };
  let transformStarted!: () => void;
  const started = new Promise<void>((r) => (transformStarted = r));

  const first = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    shutdownGraceTime: '100ms',
    shutdownForceTime: '500ms',
    // No sticky queue: the lost worker's cache would otherwise hold the next workflow task hostage.
    maxCachedWorkflows: 0,
    activities: {
      extract: async () => (calls.extract++, { rows: 100 }),
      transform: async () => {
        calls.transform1++;
        Context.current().heartbeat({ page: 1 });
        transformStarted();
        // Like a process killed mid-activity: it never reports back, whatever the worker asks.
        return new Promise<never>(() => {});
      },
      load: async () => (calls.load++, { rows: -1 }),
    },
    ...bundledWorkerOptions(),
  });
  const firstRun = first.run().catch(() => {});
  const handle = await env.client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: 'restart-wf',
    args: [{ pipeline: 'restart', targetDate: '2026-01-10', definition: def }],
  });
  await started;
  first.shutdown();
  await firstRun;

  const second = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities: {
      extract: async () => (calls.extract++, { rows: -1 }),
      transform: async () => (calls.transform2++, { rows: 90 }),
      load: async () => (calls.load++, { rows: 90 }),
    },
    ...bundledWorkerOptions(),
  });
  const result = await second.runUntil(handle.result());
  expect(calls).toEqual({ extract: 1, transform1: 1, transform2: 1, load: 1 });
  expect(result.nodes.map((n) => [n.id, n.state, n.rows])).toEqual([
    ['extract', 'succeeded', 100],
    ['transform', 'succeeded', 90],
    ['load', 'succeeded', 90],
  ]);
});
