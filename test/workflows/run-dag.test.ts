// Workflow tier with mocked activities, in the time-skipping test server.
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { NodeInput, NodeResult, PipelineDefinition, PipelineProgress } from '../../src/pipelines/types.js';
import { progressQuery, runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

type Acts = Record<string, (i: NodeInput) => Promise<NodeResult>>;
let seq = 0;

async function runWith(activities: Acts, def: PipelineDefinition, opts: { targetDate?: string } = {}) {
  const taskQueue = `dag-${++seq}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    ...bundledWorkerOptions(),
  });
  return worker.runUntil(
    env.client.workflow.execute(runPipeline, {
      taskQueue,
      workflowId: `${taskQueue}-wf`,
      args: [{ pipeline: def.name, targetDate: opts.targetDate ?? '2026-01-15', definition: def }],
    }),
  );
}

async function failureOf(p: Promise<unknown>): Promise<{ message: string; progress: PipelineProgress }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as Error & { details?: unknown[] };
  return { message: cause.message, progress: cause.details?.[0] as PipelineProgress };
}

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
    const result = await runWith({ step: (i) => track(i, 5), slow: (i) => track(i, 300) }, diamond);
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

  it('passes the target date, force flag and node params to every activity', async () => {
    const seen: NodeInput[] = [];
    const def: PipelineDefinition = {
      name: 'p',
      kind: 'nightly',
      description: '',
      nodes: [{ id: 'only', activity: 'rec', input: { table: 'x', n: 3 } }],
    };
    await runWith({ rec: async (i) => (seen.push(i), { rows: 1 }) }, def, { targetDate: '2026-03-01' });
    expect(seen).toEqual([
      { pipeline: 'p', nodeId: 'only', targetDate: '2026-03-01', force: false, params: { table: 'x', n: 3 } },
    ]);
  });

  it('retries with backoff timers skipped: an hour of retry delays in seconds of wall time', async () => {
    let attempts = 0;
    const def: PipelineDefinition = {
      name: 'flaky',
      kind: 'nightly',
      description: '',
      nodes: [
        {
          id: 'flaky',
          activity: 'flaky',
          retry: { initialIntervalSeconds: 1800, maximumIntervalSeconds: 1800, maximumAttempts: 4 },
        },
      ],
    };
    const before = await env.currentTimeMs();
    const result = await runWith(
      {
        flaky: async () => {
          attempts++;
          if (attempts < 3) throw new Error(`transient failure ${attempts}`);
          return { rows: 7 };
        },
      },
      def,
    );
    const skippedMs = (await env.currentTimeMs()) - before;
    expect(attempts).toBe(3);
    expect(result.nodes[0]).toMatchObject({ state: 'succeeded', rows: 7 });
    // Two backoffs of 30 minutes each happened in workflow time.
    expect(skippedMs).toBeGreaterThanOrEqual(60 * 60 * 1000);
  });

  it('a failed node cancels its dependents, lets independent branches finish, and fails the run', async () => {
    const ran: string[] = [];
    const def: PipelineDefinition = {
      name: 'partial',
      kind: 'nightly',
      description: '',
      nodes: [
        { id: 'bad', activity: 'bad', retry: { maximumAttempts: 2, initialIntervalSeconds: 1 } },
        { id: 'after_bad', activity: 'ok', dependsOn: ['bad'] },
        { id: 'after_after', activity: 'ok', dependsOn: ['after_bad'] },
        { id: 'independent', activity: 'ok' },
      ],
    };
    const { message, progress } = await failureOf(
      runWith(
        {
          bad: async () => {
            ran.push('bad');
            throw new Error('source unreachable');
          },
          ok: async (i) => (ran.push(i.nodeId), { rows: 5 }),
        },
        def,
      ),
    );
    expect(message).toMatch(/failed at bad \(source unreachable\)/);
    expect(ran.filter((r) => r === 'bad')).toHaveLength(2);
    expect(ran).toContain('independent');
    expect(ran).not.toContain('after_bad');
    expect(Object.fromEntries(progress.nodes.map((n) => [n.id, n.state]))).toEqual({
      bad: 'failed',
      after_bad: 'cancelled',
      after_after: 'cancelled',
      independent: 'succeeded',
    });
  });

  it('does not retry configuration, authentication or validation errors', async () => {
    let attempts = 0;
    const def: PipelineDefinition = {
      name: 'v',
      kind: 'nightly',
      description: '',
      nodes: [{ id: 'v', activity: 'v', retry: { maximumAttempts: 5 } }],
    };
    const { message } = await failureOf(
      runWith(
        {
          v: async () => {
            attempts++;
            throw new ValidationError('column "score" missing from source');
          },
        },
        def,
      ),
    );
    expect(attempts).toBe(1);
    expect(message).toMatch(/column "score" missing/);
  });

  it('rejects a cyclic pipeline before starting any node', async () => {
    let calls = 0;
    const def: PipelineDefinition = {
      name: 'cyclic',
      kind: 'nightly',
      description: '',
      nodes: [
        { id: 'a', activity: 'x', dependsOn: ['b'] },
        { id: 'b', activity: 'x', dependsOn: ['a'] },
      ],
    };
    const { message } = await failureOf(runWith({ x: async () => (calls++, { rows: 1 }) }, def));
    expect(message).toMatch(/dependency cycle/);
    expect(calls).toBe(0);
  });

  it('answers the progress query while running, and marks skipped nodes', async () => {
    const taskQueue = `dag-${++seq}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const def: PipelineDefinition = {
      name: 'q',
      kind: 'nightly',
      description: '',
      nodes: [
        { id: 'first', activity: 'skip' },
        { id: 'second', activity: 'wait', dependsOn: ['first'] },
      ],
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities: { skip: async () => ({ rows: 0, skipped: true }), wait: async () => (await gate, { rows: 42 }) },
      ...bundledWorkerOptions(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(runPipeline, {
        taskQueue,
        workflowId: `${taskQueue}-wf`,
        args: [{ pipeline: 'q', targetDate: '2026-01-01', definition: def }],
      });
      let p: PipelineProgress | undefined;
      for (let i = 0; i < 100; i++) {
        p = await handle.query(progressQuery);
        if (p.nodes[1]?.state === 'running') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(p!.status).toBe('RUNNING');
      expect(p!.nodes.map((n) => n.state)).toEqual(['skipped', 'running']);
      release();
      const result = await handle.result();
      expect(result.nodes.map((n) => [n.state, n.rows])).toEqual([
        ['skipped', 0],
        ['succeeded', 42],
      ]);
    });
  });

  it('defaults a nightly run to the day before it started and gives incremental runs no date', async () => {
    const dates: Array<string | undefined> = [];
    const rec = async (i: NodeInput) => (dates.push(i.targetDate), { rows: 1 });
    const now = await env.currentTimeMs();
    const nightly: PipelineDefinition = {
      name: 'n',
      kind: 'nightly',
      description: '',
      nodes: [{ id: 'n', activity: 'rec' }],
    };
    const incremental: PipelineDefinition = {
      name: 'i',
      kind: 'incremental',
      description: '',
      nodes: [{ id: 'i', activity: 'rec' }],
    };
    const taskQueue = `dag-${++seq}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities: { rec },
      ...bundledWorkerOptions(),
    });
    await worker.runUntil(async () => {
      await env.client.workflow.execute(runPipeline, {
        taskQueue,
        workflowId: `${taskQueue}-n`,
        args: [{ pipeline: 'n', definition: nightly }],
      });
      await env.client.workflow.execute(runPipeline, {
        taskQueue,
        workflowId: `${taskQueue}-i`,
        args: [{ pipeline: 'i', targetDate: '2026-01-01', definition: incremental }],
      });
    });
    const expected = new Date(now - 86_400_000).toISOString().slice(0, 10);
    expect(dates).toEqual([expected, undefined]);
  });
});
