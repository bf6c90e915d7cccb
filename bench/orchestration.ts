// Benchmark: what Temporal orchestration adds around each node, read from the workflow histories
// of real runs on the local dev server (`temporal server start-dev`, as `learnsync dev` runs it).
//
// Two workflows: a 25-node DAG of no-op activities (5 waves of 5, each node waiting for the whole
// previous wave) and the real learning-sample pipeline over an embedded Postgres. Two worker set-ups
// on their own task queues, same process, same bundle, same server: the SDK's defaults started the
// ordinary way, and learnsync's worker tuning (src/worker.ts workerTuning: eager activity dispatch
// for a whole wave, the activity timing interceptor) started with eager workflow start. The order
// alternates every round, the first round is discarded (bench/fair.ts).
//
// From each history, per node:
//   scheduled→started        ActivityTaskScheduled → ActivityTaskStarted
//   ready→scheduled          the last dependency's ActivityTaskCompleted (or, for the first wave,
//                            WorkflowExecutionStarted) → the node's ActivityTaskScheduled
//   ready→started            the sum: orchestration per node, the target's figure
// ready→scheduled splits at the workflow task that scheduled the node (its ActivityTaskScheduled
// names it): ready → that task started (server + task matching) and started → completed (the
// worker's workflow activation and the completion RPC). Per run: workflow started → first activity.
// Eager activity dispatch is counted by the SDK's own metric (activity_task_received{eager}, read
// from the worker runtime's Prometheus endpoint) per task queue.
// Persistence: the same dev server binary in memory (as the bench's main server) and with a SQLite
// file (--db-filename, as `learnsync dev` keeps it), learnsync's worker on each, the no-op DAG
// alternating between them.
// The last line is one JSON object with medians, p95s, spreads, ratios and targets.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import proto from '@temporalio/proto';
import { createActivities } from '../src/activities/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { learningSample } from '../src/pipelines/learning-sample/definition.js';
import { seedSampleSource } from '../src/pipelines/learning-sample/sample/source-data.js';
import type { NodeResult, PipelineDefinition, PipelineNode, PipelineRunInput } from '../src/pipelines/types.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort, startTemporalDevServer } from '../src/stack/temporal-dev-server.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { temporalCliPath } from '../src/stack/tools.js';
import { workerTuning, WORKFLOWS_PATH } from '../src/runtime/worker-options.js';
import { closeActivityDeps, createActivityDeps } from '../src/stack/activity-deps.js';
import { runPipeline } from '../src/workflows/run-dag.js';
import { compare, finish, percentile, round3, spread } from './fair.js';

const root = path.resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WAVES = 5;
const WIDTH = 5;
const NODE_P95_TARGET_MS = 50;
const FIRST_ACTIVITY_P95_TARGET_MS = 100;
const EventType = proto.temporal.api.enums.v1.EventType;

/** 25 no-op nodes: wave k's nodes each depend on every node of wave k-1. */
const noopDag: PipelineDefinition = {
  name: 'bench-noop-25',
  kind: 'incremental',
  description: 'orchestration benchmark: 5 waves of 5 no-op activities',
  nodes: Array.from({ length: WAVES * WIDTH }, (_, i): PipelineNode => {
    const wave = Math.floor(i / WIDTH);
    return {
      id: `w${wave}n${i % WIDTH}`,
      activity: 'benchNoop',
      retryClass: 'quick',
      dependsOn: wave === 0 ? [] : Array.from({ length: WIDTH }, (_, k) => `w${wave - 1}n${k}`),
    };
  }),
};

interface Latencies {
  schedToStart: number[];
  /** ready → the scheduling workflow task started (server: task created, matched to a poll). */
  readyToWftStarted: number[];
  /** the scheduling workflow task: started → completed (worker activation + completion RPC). */
  wftStartedToCompleted: number[];
  readyToScheduled: number[];
  readyToStarted: number[];
  startToFirstActivity: number[];
  activityMs: number[];
}
const emptyLatencies = (): Latencies => ({
  schedToStart: [],
  readyToWftStarted: [],
  wftStartedToCompleted: [],
  readyToScheduled: [],
  readyToStarted: [],
  startToFirstActivity: [],
  activityMs: [],
});

const ms = (t: proto.google.protobuf.ITimestamp | null | undefined) =>
  Number(t!.seconds) * 1000 + (t!.nanos ?? 0) / 1e6;

/** Reads one run's history into per-node latencies (see the header). */
async function latenciesOf(
  client: Client,
  workflowId: string,
  def: PipelineDefinition,
  into: Latencies,
): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const wfStart = ms(events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!.eventTime);
  const byScheduledId = new Map<
    string,
    { node: string; scheduled: number; wftCompletedId: string; started?: number; completed?: number }
  >();
  const at = new Map(events.map((e) => [String(e.eventId), e]));
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const attrs = e.activityTaskScheduledEventAttributes!;
      const payload = attrs.input!.payloads![0]!;
      const node = (JSON.parse(Buffer.from(payload.data!).toString()) as { nodeId: string }).nodeId;
      byScheduledId.set(String(e.eventId), {
        node,
        scheduled: ms(e.eventTime),
        wftCompletedId: String(attrs.workflowTaskCompletedEventId),
      });
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      byScheduledId.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId))!.started = ms(e.eventTime);
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      byScheduledId.get(String(e.activityTaskCompletedEventAttributes!.scheduledEventId))!.completed = ms(e.eventTime);
    }
  }
  const byNode = new Map([...byScheduledId.values()].map((a) => [a.node, a]));
  for (const node of def.nodes) {
    const a = byNode.get(node.id);
    if (!a?.started || !a.completed)
      throw new Error(`${workflowId}: node ${node.id} has no started/completed activity in its history`);
    const ready = node.dependsOn?.length ? Math.max(...node.dependsOn.map((d) => byNode.get(d)!.completed!)) : wfStart;
    into.schedToStart.push(a.started - a.scheduled);
    into.readyToScheduled.push(a.scheduled - ready);
    const wftCompleted = at.get(a.wftCompletedId)!;
    const wftStarted = at.get(String(wftCompleted.workflowTaskCompletedEventAttributes!.startedEventId))!;
    into.readyToWftStarted.push(ms(wftStarted.eventTime) - ready);
    into.wftStartedToCompleted.push(ms(wftCompleted.eventTime) - ms(wftStarted.eventTime));
    into.readyToStarted.push(a.started - ready);
  }
  into.startToFirstActivity.push(Math.min(...[...byNode.values()].map((a) => a.started!)) - wfStart);
}

const summary = (xs: number[]) => ({
  median: round3(percentile(xs, 50)),
  p95: round3(percentile(xs, 95)),
  min: round3(Math.min(...xs)),
  max: round3(Math.max(...xs)),
  n: xs.length,
});

/** Activity tasks the SDK received per task queue, eagerly (with the workflow task's completion) or by poll. */
async function activityTasksReceived(metricsUrl: string): Promise<Record<string, { eager: number; polled: number }>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, { eager: number; polled: number }> = {};
  for (const line of text.split('\n')) {
    if (!/^temporal_activity_task_received(_total)?\{/.test(line)) continue;
    const queue = /task_queue="([^"]*)"/.exec(line)?.[1] ?? '?';
    const eager = /eager="true"/.test(line);
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    const q = (out[queue] ??= { eager: 0, polled: 0 });
    if (eager) q.eager += n;
    else q.polled += n;
  }
  return out;
}

async function main(): Promise<void> {
  const metricsPort = await freePort();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: { core: 'ERROR', other: 'ERROR' } },
      metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } },
    },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const dataDir = path.join(root, '.data', `bench-orchestration-${process.pid}`);
  const temporalDir = path.join(root, '.data', `bench-orchestration-temporal-${process.pid}`);
  const benchPorts = loadConfig().bench;
  const [temporal, temporalFile, pg] = await Promise.all([
    // BENCH_TEMPORAL_PORT / BENCH_TEMPORAL_UI_PORT when set, else free ports.
    startTemporalDevServer({
      cliPath: temporalCliPath(root),
      port: await configuredOrFreePort(benchPorts.temporalPort),
      uiPort: await configuredOrFreePort(benchPorts.temporalUiPort),
    }),
    startTemporalDevServer({
      cliPath: temporalCliPath(root),
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: path.join(temporalDir, 'temporal.sqlite'),
    }),
    startEmbeddedPostgres({
      dataDir,
      port: await configuredOrFreePort(benchPorts.pgPort),
      databases: ['bench_orch_oltp', 'bench_orch_warehouse'],
      ephemeral: true,
    }),
  ]);
  const logger = createLogger({ level: 'silent' });
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const deps = await createActivityDeps(
    config,
    { warehouseUrl: pg.url('bench_orch_warehouse'), oltpUrl: pg.url('bench_orch_oltp') },
    logger,
  );
  const connection = await NativeConnection.connect({ address: temporal.address });
  const fileConnection = await NativeConnection.connect({ address: temporalFile.address });
  const extraConnections: NativeConnection[] = [];
  const workers: Worker[] = [];
  let running: Promise<unknown> | undefined;
  try {
    await seedSampleSource(deps.oltp, { from: '2026-01-01', to: '2026-01-31', examsPerDay: 40, users: 120 });
    const client = new Client({ connection, namespace: 'default' });
    const activities = { ...createActivities(deps), benchNoop: async (): Promise<NodeResult> => ({ rows: 0 }) };
    console.log('bundling the workflows once for both workers…');
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: new DefaultLogger('ERROR'),
    });
    const setups: Record<string, { taskQueue: string; options: Partial<WorkerOptions>; eagerStart: boolean }> = {
      'SDK defaults': {
        taskQueue: 'bench-orch-defaults',
        options: { maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities },
        eagerStart: false,
      },
      learnsync: { taskQueue: 'bench-orch-learnsync', options: workerTuning(config), eagerStart: true },
    };
    // Each set-up has its own connection and client, as two deployments would: one worker's long
    // polls never queue behind the other's on a shared connection.
    const clients: Record<string, Client> = {};
    for (const [name, s] of Object.entries(setups)) {
      const own = name === 'learnsync' ? connection : await NativeConnection.connect({ address: temporal.address });
      if (own !== connection) extraConnections.push(own);
      clients[name] = new Client({ connection: own, namespace: 'default' });
      workers.push(
        await Worker.create({
          connection: own,
          namespace: 'default',
          taskQueue: s.taskQueue,
          activities,
          workflowBundle,
          ...s.options,
        }),
      );
    }
    const fileQueue = 'bench-orch-learnsync-file';
    workers.push(
      await Worker.create({
        connection: fileConnection,
        namespace: 'default',
        taskQueue: fileQueue,
        activities,
        workflowBundle,
        ...workerTuning(config),
      }),
    );
    running = Promise.all(workers.map((w) => w.run()));
    const fileClient = new Client({ connection: fileConnection, namespace: 'default' });

    const results: Record<string, Record<string, Latencies>> = {};
    const sides = (workflow: string, input: (round: number) => PipelineRunInput, def: PipelineDefinition) =>
      Object.entries(setups).map(([name, s]) => {
        const lat = ((results[workflow] ??= {})[name] = emptyLatencies());
        let runs = 0;
        return {
          name,
          run: async () => {
            const round = runs++;
            const workflowId = `bench-${workflow}-${s.taskQueue}-${round}-${Date.now()}`;
            const own = clients[name]!;
            const handle = await own.workflow.start(runPipeline, {
              taskQueue: s.taskQueue,
              workflowId,
              args: [input(round)],
              requestEagerStart: s.eagerStart,
            });
            const result = await handle.result();
            // the first run of each side is the warm-up round: its latencies are discarded too
            if (round > 0) {
              await latenciesOf(own, workflowId, def, lat);
              for (const n of result.nodes) if (n.activityMs !== undefined) lat.activityMs.push(n.activityMs);
            }
            return result.nodes.length;
          },
        };
      });

    console.log(`25-node no-op DAG: ${ROUNDS} measured rounds after a warm-up, order alternating`);
    const noop = await compare(
      sides('noop25', () => ({ pipeline: noopDag.name, definition: noopDag, force: true }), noopDag),
      { rounds: ROUNDS },
    );
    console.log(`learning-sample: ${ROUNDS} measured rounds after a warm-up, order alternating`);
    const sample = await compare(
      sides(
        'learning-sample',
        (round) => ({
          pipeline: learningSample.name,
          targetDate: `2026-01-${String(2 + (round % 28)).padStart(2, '0')}`,
          force: true,
        }),
        learningSample,
      ),
      { rounds: ROUNDS },
    );

    // Persistence: learnsync's worker on the in-memory server vs the same binary with a SQLite file.
    const persistence: Record<string, Latencies> = {};
    const onServer = (name: string, c: Client, taskQueue: string) => {
      const lat = (persistence[name] = emptyLatencies());
      let runs = 0;
      return {
        name,
        run: async () => {
          const round = runs++;
          const workflowId = `bench-persistence-${taskQueue}-${round}-${Date.now()}`;
          const handle = await c.workflow.start(runPipeline, {
            taskQueue,
            workflowId,
            args: [{ pipeline: noopDag.name, definition: noopDag, force: true }],
            requestEagerStart: true,
          });
          const result = await handle.result();
          if (round > 0) await latenciesOf(c, workflowId, noopDag, lat);
          return result.nodes.length;
        },
      };
    };
    console.log(`dev server persistence, no-op DAG: in memory vs SQLite file, ${ROUNDS} rounds after a warm-up`);
    const persisted = await compare(
      [
        onServer('in-memory server', client, setups.learnsync!.taskQueue),
        onServer('SQLite-file server', fileClient, fileQueue),
      ],
      { rounds: ROUNDS },
    );
    const persistenceFigures = Object.fromEntries(
      Object.entries(persistence).map(([side, l]) => [
        side,
        {
          wallMs: persisted.sides[side]!.msStats,
          readyToStartedMs: summary(l.readyToStarted),
          readyToWftStartedMs: summary(l.readyToWftStarted),
          wftStartedToCompletedMs: summary(l.wftStartedToCompleted),
          schedToStartMs: summary(l.schedToStart),
        },
      ]),
    );
    for (const [side, f] of Object.entries(persistenceFigures))
      console.log(
        `  ${side.padEnd(19)} wall ${f.wallMs.median} ms · ready→started ${f.readyToStartedMs.median}/` +
          `${f.readyToStartedMs.p95} ms · ready→workflow task started ${f.readyToWftStartedMs.median}/` +
          `${f.readyToWftStartedMs.p95} ms · workflow task ${f.wftStartedToCompletedMs.median}/` +
          `${f.wftStartedToCompletedMs.p95} ms (median/p95)`,
      );
    const received = await activityTasksReceived(metricsUrl);
    const eagerBy = Object.fromEntries(
      [...Object.values(setups).map((s) => s.taskQueue), fileQueue].map((q) => {
        const r = received[q] ?? { eager: 0, polled: 0 };
        return [q, { ...r, eagerShare: r.eager + r.polled ? round3(r.eager / (r.eager + r.polled)) : 0 }];
      }),
    );
    for (const [q, r] of Object.entries(eagerBy))
      console.log(`  ${q.padEnd(28)} activity tasks: ${r.eager} eager, ${r.polled} polled (SDK metric)`);

    const figures: Record<string, unknown> = {};
    for (const [workflow, bySide] of Object.entries(results)) {
      const wall = workflow === 'noop25' ? noop : sample;
      figures[workflow] = Object.fromEntries(
        Object.entries(bySide).map(([side, l]) => [
          side,
          {
            wallMs: wall.sides[side]!.msStats,
            schedToStartMs: summary(l.schedToStart),
            readyToScheduledMs: summary(l.readyToScheduled),
            readyToWftStartedMs: summary(l.readyToWftStarted),
            wftStartedToCompletedMs: summary(l.wftStartedToCompleted),
            readyToStartedMs: summary(l.readyToStarted),
            startToFirstActivityMs: summary(l.startToFirstActivity),
            ...(l.activityMs.length && { activityMs: summary(l.activityMs) }),
          },
        ]),
      );
      for (const [side, f] of Object.entries(
        figures[workflow] as Record<string, Record<string, { median: number; p95: number }>>,
      )) {
        console.log(
          `  ${workflow.padEnd(15)} ${side.padEnd(12)} wall ${f.wallMs!.median} ms · scheduled→started ` +
            `${f.schedToStartMs!.median}/${f.schedToStartMs!.p95} ms · ` +
            `ready→scheduled ${f.readyToScheduledMs!.median}/${f.readyToScheduledMs!.p95} ms (ready→workflow task ` +
            `started ${f.readyToWftStartedMs!.median}/${f.readyToWftStartedMs!.p95}, workflow task ` +
            `${f.wftStartedToCompletedMs!.median}/${f.wftStartedToCompletedMs!.p95}) · ` +
            `ready→started ${f.readyToStartedMs!.median}/${f.readyToStartedMs!.p95} ms · ` +
            `start→first activity ${f.startToFirstActivityMs!.median}/${f.startToFirstActivityMs!.p95} ms (median/p95)`,
        );
      }
    }
    const ours = (w: string) => results[w]!.learnsync!;
    const base = (w: string) => results[w]!['SDK defaults']!;
    const p95 = (xs: number[]) => round3(percentile(xs, 95));
    const wallRatio = (c: typeof noop) =>
      round3(c.sides['SDK defaults']!.msStats.median / c.sides.learnsync!.msStats.median);
    finish(
      'orchestration',
      {
        date: new Date().toISOString(),
        rounds: ROUNDS,
        dag: { nodes: noopDag.nodes.length, waves: WAVES, width: WIDTH },
        workflows: figures,
        activityTasksReceived: eagerBy,
        persistence: persistenceFigures,
        ratios: {
          noop25WallDefaultsOverLearnsync: wallRatio(noop),
          sampleWallDefaultsOverLearnsync: wallRatio(sample),
          persistenceNoopWallFileOverMemory: round3(
            persisted.sides['SQLite-file server']!.msStats.median / persisted.sides['in-memory server']!.msStats.median,
          ),
          noop25ReadyToStartedP95DefaultsOverLearnsync: round3(
            p95(base('noop25').readyToStarted) / Math.max(p95(ours('noop25').readyToStarted), 0.001),
          ),
        },
        spreadNote: `medians over ${ROUNDS} runs × nodes; wall spreads per run in wallMs`,
        allNodesSpread: spread(ours('noop25').readyToStarted),
      },
      [
        {
          name: 'no-op DAG, ready→started per node p95 ms',
          value: p95(ours('noop25').readyToStarted),
          op: '<=',
          target: NODE_P95_TARGET_MS,
        },
        {
          name: 'learning-sample, ready→started per node p95 ms',
          value: p95(ours('learning-sample').readyToStarted),
          op: '<=',
          target: NODE_P95_TARGET_MS,
        },
        {
          name: 'no-op DAG, workflow start→first activity p95 ms',
          value: p95(ours('noop25').startToFirstActivity),
          op: '<=',
          target: FIRST_ACTIVITY_P95_TARGET_MS,
        },
        {
          name: 'learning-sample, workflow start→first activity p95 ms',
          value: p95(ours('learning-sample').startToFirstActivity),
          op: '<=',
          target: FIRST_ACTIVITY_P95_TARGET_MS,
        },
      ],
    );
  } finally {
    for (const w of workers) w.shutdown();
    await running?.catch(() => {});
    await connection.close();
    await fileConnection.close();
    for (const c of extraConnections) await c.close();
    await closeActivityDeps(deps);
    await Promise.all([temporal.stop(), temporalFile.stop(), pg.stop()]);
    await rm(dataDir, { recursive: true, force: true });
    await rm(temporalDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench:orchestration failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
