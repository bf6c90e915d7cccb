// A backfill that continues as new is one run in the API: listed once, started when its first
// execution started, its duration the whole backfill's — not its last segment's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backfillPipeline } from '../../src/workflows/backfill.js';
import { startServeStack, type ServeStack } from '../support/serve-stack.js';

let stack: ServeStack;
beforeAll(async () => {
  stack = await startServeStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('lists a continued-as-new backfill once, timed from its first execution', async () => {
  const workflowId = 'learnsync-backfill-learning-sample-2026-06-01-2026-06-03';
  const handle = await stack.client.workflow.start(backfillPipeline, {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId,
    args: [{ pipeline: 'learning-sample', from: '2026-06-01', to: '2026-06-03', concurrency: 1, maxChildrenPerRun: 1 }],
  });
  // No source data here: every date fails, which is as good a backfill to time as any.
  await handle.result().catch(() => {});
  const executions: Array<{ start: number; close: number }> = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
    executions.push({ start: w.startTime.getTime(), close: w.closeTime!.getTime() });
  expect(executions).toHaveLength(3);
  const first = Math.min(...executions.map((e) => e.start));
  const whole = Math.max(...executions.map((e) => e.close)) - first;

  const list = await stack.api('GET', '/api/runs?kind=backfill', stack.reader);
  const mine = list.body.runs.filter((r: { workflowId: string }) => r.workflowId === workflowId);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ status: 'FAILED', startTime: new Date(first).toISOString(), durationMs: whole });
  const one = await stack.api('GET', `/api/runs/${workflowId}`, stack.reader);
  expect(one.body).toMatchObject({ startTime: new Date(first).toISOString(), durationMs: whole });
});
