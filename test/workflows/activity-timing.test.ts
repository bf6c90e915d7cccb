// Each node's progress carries the activity's own execution time, measured in the worker by the
// timing interceptor, beside the workflow clock's wall time; the CLI table prints both.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeTable } from '../../src/cli/watch-run.js';
import type { NodeResult, PipelineDefinition } from '../../src/pipelines/types.js';
import { activityTimingInterceptor } from '../../src/runtime/activity-timing.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const def: PipelineDefinition = {
  name: 'timed',
  kind: 'incremental',
  description: 'a slow node, then a fast one',
  nodes: [
    { id: 'slow', activity: 'slow' },
    { id: 'fast', activity: 'fast', dependsOn: ['slow'] },
  ],
};

it('records activityMs from inside the worker and prints it beside the wall time', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'timed',
    activities: {
      slow: async (): Promise<NodeResult> => {
        await new Promise((r) => setTimeout(r, 150));
        return { rows: 3 };
      },
      fast: async (): Promise<NodeResult> => ({ rows: 1 }),
    },
    interceptors: { activity: [activityTimingInterceptor] },
    ...bundledWorkerOptions(),
  });
  const result = await worker.runUntil(
    env.client.workflow.execute(runPipeline, {
      taskQueue: 'timed',
      workflowId: 'timed-wf',
      args: [{ pipeline: def.name, definition: def }],
    }),
  );
  const slow = result.nodes.find((n) => n.id === 'slow')!;
  const fast = result.nodes.find((n) => n.id === 'fast')!;
  expect(slow.activityMs).toBeGreaterThanOrEqual(145);
  expect(slow.activityMs).toBeLessThan(5_000);
  expect(fast.activityMs).toBeLessThan(slow.activityMs!);
  expect(slow.rows).toBe(3);
  const table = nodeTable(result);
  expect(table[0]).toMatch(/wall\s+activity$/);
  expect(table.find((l) => l.includes(' slow '))).toMatch(new RegExp(`${slow.activityMs} ms$`));
});
