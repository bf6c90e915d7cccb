// Workflow tier with mocked activities, in the time-skipping test server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInput, NodeResult, PipelineDefinition } from '../../src/pipelines/types.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const diamond: PipelineDefinition = {
  name: 'diamond',
  kind: 'nightly',
  description: 'a → (b, c) → d',
  nodes: [
    { id: 'a', activity: 'step' },
    { id: 'b', activity: 'slow', dependsOn: ['a'] },
    { id: 'c', activity: 'slow', dependsOn: ['a'] },
    { id: 'd', activity: 'step', dependsOn: ['b', 'c'] },
  ],
};

async function runWith(activities: Record<string, (i: NodeInput) => Promise<NodeResult>>, def: PipelineDefinition, taskQueue: string, targetDate = '2026-01-15') {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, activities, ...bundledWorkerOptions() });
  return worker.runUntil(
    env.client.workflow.execute(runPipeline, {
      taskQueue,
      workflowId: `${taskQueue}-${Date.now()}`,
      args: [{ pipeline: def.name, targetDate, definition: def }],
    }),
  );
}

describe('runPipeline', () => {
  it('runs independent branches in parallel and dependents after their inputs', async () => {
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const track = async (i: NodeInput, ms: number) => {
      events.push(`start:${i.nodeId}`);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      events.push(`end:${i.nodeId}`);
      return { rows: i.nodeId.charCodeAt(0) };
    };
    const result = await runWith({ step: (i) => track(i, 5), slow: (i) => track(i, 300) }, diamond, 'dag-parallel');
    expect(result.status).toBe('SUCCESS');
    expect(result.targetDate).toBe('2026-01-15');
    expect(maxInFlight).toBe(2);
    expect(events.indexOf('start:b')).toBeLessThan(events.indexOf('end:c'));
    expect(events.indexOf('start:d')).toBeGreaterThan(Math.max(events.indexOf('end:b'), events.indexOf('end:c')));
    expect(result.nodes.map((n) => [n.id, n.state, n.rows])).toEqual([
      ['a', 'succeeded', 97],
      ['b', 'succeeded', 98],
      ['c', 'succeeded', 99],
      ['d', 'succeeded', 100],
    ]);
    expect(result.rows).toBe(97 + 98 + 99 + 100);
  });
});
