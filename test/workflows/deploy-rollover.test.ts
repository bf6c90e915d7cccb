// A deploy in the middle of a backfill (issue 21): the worker of build v1 is replaced by a worker
// of build v2 while a backfill runs across continue-as-new, and the backfill finishes on v2 with
// every date done once. While a workflow last served by v1 is still waiting, `learnsync status`'s
// report shows both builds and which workflow each ran last. A real dev server: the deployment
// version stamps are the server's.
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { command as statusCommand } from '../../src/cli/commands/status.js';
import { buildStatusReport } from '../../src/cli/status-report.js';
import type { CliContext } from '../../src/cli/types.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { workerDeployment } from '../../src/runtime/worker-options.js';
import type { TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { backfillPipeline } from '../../src/workflows/backfill.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, startDevServer } from '../support/temporal.js';

let server: TemporalHandle;
let client: Client;
let nativeConnection: NativeConnection;
beforeAll(async () => {
  server = await startDevServer();
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
  nativeConnection = await NativeConnection.connect({ address: server.address });
});
afterAll(async () => {
  await nativeConnection?.close();
  await client?.connection.close();
  await server?.stop();
});

// load heartbeats, so the server notices within 2 s that the replaced worker's attempt is gone.
const def: PipelineDefinition = {
  name: 'rollover',
  kind: 'nightly',
  description: '',
  nodes: [
    { id: 'extract', activity: 'extract' },
    {
      id: 'load',
      activity: 'load',
      dependsOn: ['extract'],
      timeouts: { heartbeatSeconds: 2 },
      retry: { initialIntervalSeconds: 1 },
    },
  ],
};
// A run that waits out an outage with a long backoff: no workflow task while it waits, so its
// latest workflow task stays the one v1 completed.
const waiting: PipelineDefinition = {
  name: 'waiting',
  kind: 'nightly',
  description: '',
  nodes: [{ id: 'wait', activity: 'unreachable', retry: { initialIntervalSeconds: 600, maximumIntervalSeconds: 600 } }],
};

it('a backfill started on build v1 finishes on build v2 after the worker is replaced', async () => {
  const taskQueue = 'rollover';
  const loads: Record<string, string[]> = {};
  const loaded = (build: string) => async () => {
    const date = Context.current().info.workflowExecution!.workflowId.split('/').at(-1)!;
    (loads[date] ??= []).push(build);
    return { rows: 10 };
  };
  let reachedDate3!: () => void;
  const atDate3 = new Promise<void>((r) => (reachedDate3 = r));
  let waitingTried!: () => void;
  const waitingOnV1 = new Promise<void>((r) => (waitingTried = r));

  const v1 = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    shutdownGraceTime: '100ms',
    shutdownForceTime: '500ms',
    maxCachedWorkflows: 0,
    workerDeploymentOptions: workerDeployment({ deploymentName: 'learnsync', buildId: 'v1' }),
    activities: {
      extract: async () => ({ rows: 10 }),
      load: async () => {
        const date = Context.current().info.workflowExecution!.workflowId.split('/').at(-1)!;
        if (date < '2026-03-03') return loaded('v1')();
        // v1 is being replaced: this attempt never reports back, like a pod killed mid-activity.
        Context.current().heartbeat();
        reachedDate3();
        return new Promise<never>(() => {});
      },
      unreachable: async () => {
        waitingTried();
        throw new Error('source unreachable (connection refused)');
      },
    },
    ...bundledWorkerOptions(),
  });
  // A worker stopped with an activity that never returns ends in an error, as a killed pod would.
  const v1Run = v1.run().catch(() => {});
  const backfill = await client.workflow.start(backfillPipeline, {
    taskQueue,
    workflowId: 'rollover-backfill',
    args: [
      {
        pipeline: 'rollover',
        from: '2026-03-01',
        to: '2026-03-06',
        concurrency: 1,
        maxChildrenPerRun: 2,
        definition: def,
      },
    ],
  });
  const stuck = await client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: 'rollover-waiting',
    args: [{ pipeline: 'waiting', targetDate: '2026-03-01', definition: waiting }],
  });
  // v1 has served both workflows (the waiting one's first attempt failed on v1): now replace it.
  await Promise.all([atDate3, waitingOnV1]);
  v1.shutdown();
  await v1Run;

  const v2 = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workerDeploymentOptions: workerDeployment({ deploymentName: 'learnsync', buildId: 'v2' }),
    activities: { extract: async () => ({ rows: 10 }), load: loaded('v2'), unreachable: async () => ({ rows: 0 }) },
    ...bundledWorkerOptions(),
  });
  const result = await v2.runUntil(async () => {
    // Mid-rollout: both builds have workflows, and status says which ran which.
    let report;
    for (let i = 0; i < 50; i++) {
      report = await buildStatusReport(
        { warehouse: () => Promise.reject(new Error('no warehouse here')), temporal: async () => client },
        { limit: 10 },
      );
      if (report.workerVersions?.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const builds = Object.fromEntries(report!.runningWorkflows!.map((w) => [w.workflowId, w.workerBuildId]));
    expect(builds).toMatchObject({ 'rollover-waiting': 'v1', 'rollover-backfill': 'v2' });
    expect(report!.workerVersions!.map((v) => v.buildId).sort()).toEqual(['v1', 'v2']);
    // The text report says the same (no warehouse here: that part is reported unreachable, exit 2).
    // A continue-as-new between two reports starts a run with no workflow task completed yet (no build
    // stamp for a moment): the text report is read again until both runs have been served.
    let lines: string[] = [];
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    for (let i = 0; i < 50; i++) {
      lines = [];
      const ctx = {
        temporal: async () => client,
        warehouse: () => Promise.reject(new Error('no warehouse here')),
        print: (line = '') => lines.push(line),
      } as unknown as CliContext;
      expect(await statusCommand.run(ctx, { positionals: [], values: {} })).toBe(2);
      if (lines.filter((l) => /rollover-(waiting|backfill).*worker build v[12]$/.test(l)).length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    quiet.mockRestore();
    expect(lines.find((l) => l.includes('rollover-waiting'))).toMatch(/worker build v1$/);
    expect(lines.find((l) => l.includes('rollover-backfill'))).toMatch(/worker build v2$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}2 worker builds live: v[12] runs 1, v[12] runs 1$/));
    return backfill.result();
  });

  expect(result).toMatchObject({ total: 6, succeeded: 6, failed: [], rows: 120, continuedAsNew: 2 });
  // Dates 1-2 loaded by v1, 3-6 by v2 (date 3's lost v1 attempt never completed): each date once.
  expect(loads).toEqual({
    '2026-03-01': ['v1'],
    '2026-03-02': ['v1'],
    '2026-03-03': ['v2'],
    '2026-03-04': ['v2'],
    '2026-03-05': ['v2'],
    '2026-03-06': ['v2'],
  });
  // The backfill's first run was served by v1 and its last by v2: the history says so.
  const stamps = async (runId?: string) =>
    new Set(
      ((await client.workflow.getHandle('rollover-backfill', runId).fetchHistory()).events ?? [])
        .map((e) => e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId)
        .filter(Boolean),
    );
  expect(await stamps(backfill.firstExecutionRunId)).toEqual(new Set(['v1']));
  expect(await stamps()).toEqual(new Set(['v2']));
  await stuck.terminate('test over');
});
