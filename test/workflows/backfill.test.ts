// Backfill parent with mocked activities: the sliding window, continue-as-new, failed dates.
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateRange } from '../../src/pipelines/dates.js';
import type { BackfillInput, NodeInput, NodeResult, PipelineDefinition } from '../../src/pipelines/types.js';
import { backfillPipeline } from '../../src/workflows/backfill.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const oneNode: PipelineDefinition = {
  name: 'daily',
  kind: 'nightly',
  description: '',
  nodes: [{ id: 'build', activity: 'build', retry: { maximumAttempts: 1 } }],
};
let seq = 0;

async function backfill(
  input: Omit<BackfillInput, 'pipeline' | 'definition'>,
  build: (i: NodeInput) => Promise<NodeResult>,
) {
  const taskQueue = `bf-${++seq}`;
  const workflowId = `${taskQueue}-parent`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities: { build },
    ...bundledWorkerOptions(),
  });
  const outcome = await worker.runUntil(
    env.client.workflow
      .execute(backfillPipeline, {
        taskQueue,
        workflowId,
        args: [{ pipeline: 'daily', definition: oneNode, ...input }],
      })
      .then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      ),
  );
  return { outcome, workflowId };
}

describe('backfillPipeline', () => {
  it('runs every date exactly once, at most N at a time, continuing as new to bound its history', async () => {
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const { outcome, workflowId } = await backfill(
      { from: '2026-01-01', to: '2026-01-20', concurrency: 3, maxChildrenPerRun: 6 },
      async (i) => {
        seen.push(i.targetDate!);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { rows: Number(i.targetDate!.slice(8)) };
      },
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect([...seen].sort()).toEqual(dateRange('2026-01-01', '2026-01-20'));
    expect(maxInFlight).toBe(3);
    expect(outcome.r).toMatchObject({ total: 20, done: 20, succeeded: 20, failed: [], continuedAsNew: 3 });
    expect(outcome.r.rows).toBe((20 * 21) / 2);
    // The last run's history holds its own 2 children, not the 20 of the whole range.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const childStarts = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
    expect(childStarts).toBe(2);
    expect(history.events!.length).toBeLessThan(60);
  });

  it('gives children deterministic ids derived from the parent and the date', async () => {
    const { workflowId } = await backfill({ from: '2026-02-01', to: '2026-02-02', concurrency: 2 }, async () => ({
      rows: 1,
    }));
    const child = await env.client.workflow.getHandle(`${workflowId}/2026-02-02`).describe();
    expect(child.status.name).toBe('COMPLETED');
    expect(child.type).toBe('runPipeline');
  });

  it('keeps going past a failed date and fails at the end, naming it', async () => {
    const seen: string[] = [];
    const { outcome } = await backfill({ from: '2026-03-01', to: '2026-03-05', concurrency: 2 }, async (i) => {
      seen.push(i.targetDate!);
      if (i.targetDate === '2026-03-03') throw new Error('source partition missing');
      return { rows: 1 };
    });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.e).toBeInstanceOf(WorkflowFailedError);
    expect((outcome.e as WorkflowFailedError).cause?.message).toBe(
      'backfill of daily failed for 1 of 5 dates: 2026-03-03',
    );
    expect(seen.sort()).toEqual(dateRange('2026-03-01', '2026-03-05'));
  });

  it('refuses an inverted range and incremental pipelines before starting any child', async () => {
    let calls = 0;
    const { outcome } = await backfill({ from: '2026-03-05', to: '2026-03-01' }, async () => (calls++, { rows: 1 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect((outcome.e as WorkflowFailedError).cause?.message).toMatch(/invalid range/);
    expect(calls).toBe(0);
  });

  it('refuses a range over its maximum (3,660 dates unless the input says more) before any child', async () => {
    let calls = 0;
    const { outcome } = await backfill({ from: '1900-01-01', to: '2100-12-31' }, async () => (calls++, { rows: 1 }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok)
      expect((outcome.e as WorkflowFailedError).cause?.message).toMatch(
        /covers 73414 dates, over the maximum of 3660: .*--max-dates N or --yes/,
      );
    const small = await backfill(
      { from: '2026-03-01', to: '2026-03-03', maxDates: 2 },
      async () => (calls++, { rows: 1 }),
    );
    expect(small.outcome.ok).toBe(false);
    expect(calls).toBe(0);
  });
});
