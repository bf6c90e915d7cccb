// `npm run record:histories`: re-records, from a local Temporal dev server, one history of every
// workflow shape that can be in flight during a deploy (issue 21), into
// test/workflows/histories/<release>/ with their checksums in manifest.json. The replay test
// (test/workflows/replay.test.ts) replays every committed history against the current workflow code.
//
// Histories of earlier releases are frozen: they are what running executions look like when the
// next release deploys, so this script never rewrites them. It writes the directory of the current
// release (package.json's version) only; an existing one is replaced only with --replace.
//
// Activities are stubs that return small summaries (or fail, for the retry and outage shapes):
// replay never runs activities, it checks the commands the workflow code issues against the
// events, so the stubs record the same event sequence the real activities would.
// Usage: tsx scripts/record-histories.ts [--replace]
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { listPipelines } from '../src/pipelines/registry.js';
import type { NodeInput, NodeResult } from '../src/pipelines/types.js';
import { applySchedules } from '../src/schedules/manage.js';
import { startPipelineRun } from '../src/schedules/start-runs.js';
import { freePort, startTemporalDevServer } from '../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../src/stack/tools.js';
import { backfillPipeline } from '../src/workflows/backfill.js';
import { PIPELINE_KEY, STATUS_KEY } from '../src/workflows/search-attributes.js';
import {
  HISTORIES_DIR,
  historyToFixture,
  MANIFEST_PATH,
  readManifest,
  sha256,
  type HistoryEntry,
  type HistoryManifest,
} from '../test/support/histories.js';

const root = path.resolve(import.meta.dirname, '..');
const replace = process.argv.includes('--replace');
const release = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const taskQueue = 'record-histories';
const SAMPLE = 'learning-sample';

/** Per workflow id: how the stub activities behave in that run. */
type Behaviour = 'ok' | 'fail-first-attempt' | 'fail-always-retryable' | 'fail-permanently';
const behaviourOf = (workflowId: string): Behaviour =>
  workflowId.includes('retried')
    ? 'fail-first-attempt'
    : workflowId.includes('outage')
      ? 'fail-always-retryable'
      : workflowId.includes('failed')
        ? 'fail-permanently'
        : 'ok';

/** The first node of learning-sample is the one that fails in the failing shapes. */
const FAILING_NODE = 'extract_exam_results';

function stubActivities(): Record<string, (input: NodeInput) => Promise<unknown>> {
  const names = new Set(listPipelines().flatMap((p) => p.nodes.map((n) => n.activity)));
  const stub = async (input: NodeInput): Promise<NodeResult> => {
    const info = Context.current().info;
    const behaviour = input.nodeId === FAILING_NODE ? behaviourOf(info.workflowExecution?.workflowId ?? '') : 'ok';
    if (behaviour === 'fail-first-attempt' && info.attempt === 1)
      throw ApplicationFailure.retryable('source answered 503 (recorded)', 'RetryableError');
    if (behaviour === 'fail-always-retryable')
      throw ApplicationFailure.retryable('source unreachable: connection refused (recorded outage)', 'RetryableError');
    if (behaviour === 'fail-permanently')
      throw ApplicationFailure.nonRetryable('source rejected the credentials (recorded)', 'AuthError');
    return { rows: 10, rejected: 1, activityMs: 1 };
  };
  return {
    ...Object.fromEntries([...names].map((n) => [n, stub])),
    // The capture workflow's two activities (src/workflows/cdc.ts): small summaries, as the real ones return.
    cdcStart: async () => ({ created: true }),
    cdcConsume: async () => {
      await new Promise((r) => setTimeout(r, 50));
      return {
        batches: 1,
        transactions: 3,
        changes: 12,
        opened: 7,
        closed: 4,
        rejected: 1,
        lastAppliedLsn: '0/16B3748',
        lagBytes: 0,
        lagSeconds: 0.2,
      };
    },
  };
}

interface Recorded {
  name: string;
  shape: string;
  handle: WorkflowHandle;
  runId?: string;
}

async function main(): Promise<void> {
  const outDir = path.join(HISTORIES_DIR, release);
  let manifest: HistoryManifest = { histories: [] };
  try {
    manifest = readManifest();
  } catch {
    // first recording
  }
  if (manifest.histories.some((h) => h.release === release) && !replace) {
    throw new Error(
      `histories of release ${release} exist; histories of a release are what its running workflows look like, ` +
        'so bump package.json version for new ones, or pass --replace to re-record this release on purpose',
    );
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startTemporalDevServer({
    cliPath: temporalCliPath(root),
    port: await freePort(),
    uiPort: await freePort(),
  });
  try {
    const noop = () => {};
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(root, 'src', 'workflows', 'index.ts'),
      logger: { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop },
    });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { code },
      activities: stubActivities(),
      workerDeploymentOptions: {
        useWorkerVersioning: false,
        version: { deploymentName: 'learnsync', buildId: release },
      },
    });
    const recorded = await worker.runUntil(recordAll(client));
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const entries: HistoryEntry[] = [];
    for (const r of recorded) {
      const history = await client.workflow.getHandle(r.handle.workflowId, r.runId).fetchHistory();
      const text = historyToFixture(history);
      const events = history.events ?? [];
      const last = events.at(-1);
      const complete = Boolean(
        last?.workflowExecutionCompletedEventAttributes ||
        last?.workflowExecutionFailedEventAttributes ||
        last?.workflowExecutionContinuedAsNewEventAttributes,
      );
      const file = `${release}/${r.name}.json`;
      await writeFile(path.join(HISTORIES_DIR, file), text);
      entries.push({
        file,
        shape: r.shape,
        workflowType: events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?',
        workflowId: r.handle.workflowId,
        release,
        events: events.length,
        complete,
        sha256: sha256(text),
      });
      console.log(`recorded ${file}: ${events.length} events${complete ? '' : ' (in flight)'}`);
    }
    manifest.histories = [...manifest.histories.filter((h) => h.release !== release), ...entries];
    await writeFile(MANIFEST_PATH, JSON.stringify(manifest, null, 2) + '\n');
    await nativeConnection.close();
    await client.connection.close();
  } finally {
    await server.stop();
  }
}

async function recordAll(client: Client): Promise<Recorded[]> {
  const byName = (name: string) => listPipelines().find((p) => p.name === name)!;
  const out: Recorded[] = [];

  // A nightly run of the whole nightly DAG (26 nodes), started as the CLI starts it.
  const nightly = await startPipelineRun(client, taskQueue, byName('nightly'), {
    targetDate: '2026-01-15',
    force: false,
  });
  await nightly.handle.result();
  out.push({ name: 'nightly', shape: 'nightly runPipeline of the 26-node nightly DAG', handle: nightly.handle });

  const forced = await startPipelineRun(client, taskQueue, byName(SAMPLE), { targetDate: '2026-01-16', force: true });
  await forced.handle.result();
  out.push({ name: 'forced', shape: 'forced run (--force)', handle: forced.handle });

  const retried = await client.workflow.start('runPipeline', {
    taskQueue,
    workflowId: 'record-retried-node',
    args: [{ pipeline: SAMPLE, targetDate: '2026-01-17', force: false }],
    typedSearchAttributes: [
      { key: PIPELINE_KEY, value: SAMPLE },
      { key: STATUS_KEY, value: 'RUNNING' },
    ],
  });
  await retried.result();
  out.push({ name: 'retried-node', shape: 'a node failed once (503) and succeeded on retry', handle: retried });

  const failed = await client.workflow.start('runPipeline', {
    taskQueue,
    workflowId: 'record-failed-node',
    args: [{ pipeline: SAMPLE, targetDate: '2026-01-18', force: false }],
  });
  await failed.result().catch(() => {});
  out.push({
    name: 'failed-node',
    shape: 'a node failed for good (auth): dependents cancelled, run FAILED',
    handle: failed,
  });

  // A backfill of 5 dates, 2 children per run: two continue-as-new hops. The first run (ends
  // ContinuedAsNew) and the last (completes) are both kept.
  const backfill = await client.workflow.start(backfillPipeline, {
    taskQueue,
    workflowId: 'record-backfill',
    args: [{ pipeline: SAMPLE, from: '2026-01-01', to: '2026-01-05', concurrency: 2, maxChildrenPerRun: 2 }],
    typedSearchAttributes: [
      { key: PIPELINE_KEY, value: SAMPLE },
      { key: STATUS_KEY, value: 'RUNNING' },
    ],
  });
  await backfill.result();
  const firstRunId = backfill.firstExecutionRunId;
  out.push({
    name: 'backfill-first-run',
    shape: 'backfill run that continued as new',
    handle: backfill,
    runId: firstRunId,
  });
  out.push({ name: 'backfill-last-run', shape: 'backfill run after two continue-as-new hops', handle: backfill });

  // A run started by a Temporal Schedule (no target date: yesterday of its start time).
  const scheduleId = 'record-schedule';
  await applySchedules(client, taskQueue, [
    { id: scheduleId, pipeline: SAMPLE, description: 'recorded', every: '24h' },
  ]);
  const schedule = client.schedule.getHandle(scheduleId);
  await schedule.trigger();
  let action;
  for (let i = 0; i < 100 && !action; i++) {
    action = (await schedule.describe()).info.recentActions[0]?.action;
    if (!action) await new Promise((r) => setTimeout(r, 200));
  }
  if (!action) throw new Error('the schedule did not start a run within 20 s');
  const scheduled = client.workflow.getHandle(action.workflow.workflowId);
  await scheduled.result();
  await schedule.delete();
  out.push({ name: 'schedule-started', shape: 'run started by a Temporal Schedule', handle: scheduled });

  // A run waiting out an outage: its first node keeps failing with a retryable error; recorded in
  // flight (after three attempts), then terminated.
  const outage = await client.workflow.start('runPipeline', {
    taskQueue,
    workflowId: 'record-outage-wait',
    args: [{ pipeline: SAMPLE, targetDate: '2026-01-19', force: false, outageWindowMinutes: 30 }],
  });
  for (let i = 0; i < 150; i++) {
    const pending = (await outage.describe()).raw.pendingActivities ?? [];
    if (pending.some((a) => (a.attempt ?? 0) >= 3)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  out.push({ name: 'outage-wait', shape: 'run in flight, a node retrying through an outage', handle: outage });

  // The capture (CDC) workflow: a first run that continued as new after its slices, and the next
  // run stopped by the `stop` signal (what `learnsync cdc stop` sends).
  const capture = await client.workflow.start('cdcCapture', {
    taskQueue,
    workflowId: 'record-cdc-oltp',
    args: [{ source: 'oltp', sliceSeconds: 1, slicesPerRun: 3 }],
  });
  const captureFirstRunId = capture.firstExecutionRunId;
  for (let i = 0; i < 150; i++) {
    const d = await capture.describe();
    if (d.runId !== captureFirstRunId) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const latest = client.workflow.getHandle('record-cdc-oltp');
  await latest.signal('stop');
  await latest.result();
  out.push({
    name: 'cdc-capture-first-run',
    shape: 'CDC capture: start, slices, continued as new',
    handle: capture,
    runId: captureFirstRunId,
  });
  out.push({
    name: 'cdc-capture-stopped',
    shape: 'CDC capture run after continue-as-new, stopped by signal',
    handle: latest,
  });

  return out;
}

main().catch((err) => {
  console.error(`record-histories: ${(err as Error).stack}`);
  process.exit(1);
});
