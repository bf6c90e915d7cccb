// Probe (not a fair comparison, no target): where the remaining ~30-40 ms of orchestration per node
// goes once eager activity dispatch works. A chain of 8 activities of a fixed duration on the local
// dev server; from each history: activity completed → next workflow task scheduled → started →
// completed. Run with the SDK's default worker options and with learnsync's tuning, for several
// activity durations: if the workflow task's scheduled→started gap is a fixed time after the
// previous workflow task minus the activity's duration, the wait is in dispatching the workflow
// task, not in the worker's options. `npx tsx bench/probes/wft-dispatch.ts`; prints one JSON line.
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { loadConfig } from '../../src/config.js';
import { workerTuning } from '../../src/runtime/worker-options.js';
import { freePort, startTemporalDevServer } from '../../src/stack/temporal-dev-server.js';
import { temporalCliPath } from '../../src/stack/tools.js';
import { percentile, spread } from '../fair.js';

const root = path.resolve(import.meta.dirname, '../..');
const DURATIONS_MS = [0, 8, 15, 30, 45];
const RUNS = 6; // the first of each is discarded
type Event = temporal.api.history.v1.IHistoryEvent;
const kind = (e: Event) => Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof Event]) ?? '';
const ms = (e: Event) => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

Runtime.install({ logger: new DefaultLogger('ERROR') });
const server = await startTemporalDevServer({
  cliPath: temporalCliPath(root),
  port: await freePort(),
  uiPort: await freePort(),
});
const connection = await NativeConnection.connect({ address: server.address });
const workflowBundle = await bundleWorkflowCode({
  workflowsPath: path.join(import.meta.dirname, 'wft-dispatch-workflow.ts'),
  logger: new DefaultLogger('ERROR'),
});
const tuning = workerTuning(loadConfig({ LOG_LEVEL: 'silent' }));
delete tuning.interceptors;
const setups = { 'SDK defaults': {}, learnsync: tuning };
const activities = {
  work: async (d: number) => {
    if (d) await new Promise((r) => setTimeout(r, d));
    return 1;
  },
};
const client = new Client({ connection });
const figures: Record<string, Record<string, unknown>> = {};
try {
  for (const [name, options] of Object.entries(setups)) {
    const taskQueue = `probe-${name.replace(/\W/g, '')}`;
    const worker = await Worker.create({ connection, taskQueue, workflowBundle, activities, ...options });
    await worker.runUntil(async () => {
      for (const d of DURATIONS_MS) {
        const gap = { scheduledAfterCompleted: [] as number[], startedAfterScheduled: [] as number[] };
        const sincePreviousTask: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const handle = await client.workflow.start('chain', {
            taskQueue,
            workflowId: `probe-${taskQueue}-${d}-${run}-${Date.now()}`,
            args: [d, 8, 1],
          });
          await handle.result();
          if (run === 0) continue;
          const events = (await handle.fetchHistory()).events ?? [];
          let previousTaskCompleted: number | undefined;
          for (let i = 0; i < events.length; i++) {
            const k = kind(events[i]!);
            if (k === 'workflowTaskCompletedEventAttributes') previousTaskCompleted = ms(events[i]!);
            if (k !== 'activityTaskCompletedEventAttributes') continue;
            const scheduled = events.findIndex((e, j) => j > i && kind(e) === 'workflowTaskScheduledEventAttributes');
            const started = events.findIndex(
              (e, j) => j > scheduled && kind(e) === 'workflowTaskStartedEventAttributes',
            );
            if (scheduled < 0 || started < 0) continue;
            gap.scheduledAfterCompleted.push(ms(events[scheduled]!) - ms(events[i]!));
            gap.startedAfterScheduled.push(ms(events[started]!) - ms(events[scheduled]!));
            if (previousTaskCompleted !== undefined)
              sincePreviousTask.push(ms(events[started]!) - previousTaskCompleted);
          }
        }
        const p95 = (xs: number[]) => percentile(xs, 95);
        const row = {
          activityMs: d,
          workflowTaskScheduledAfterActivityCompletedMs: {
            ...spread(gap.scheduledAfterCompleted),
            p95: p95(gap.scheduledAfterCompleted),
          },
          workflowTaskStartedAfterScheduledMs: {
            ...spread(gap.startedAfterScheduled),
            p95: p95(gap.startedAfterScheduled),
          },
          workflowTaskStartedAfterPreviousTaskCompletedMs: spread(sincePreviousTask),
        };
        (figures[name] ??= {})[`${d}ms`] = row;
        const started = row.workflowTaskStartedAfterScheduledMs;
        const afterPrevious = row.workflowTaskStartedAfterPreviousTaskCompletedMs.median.toFixed(1);
        console.log(
          `${name.padEnd(12)} activity ${String(d).padStart(2)} ms: workflow task scheduled→started median ` +
            `${started.median.toFixed(1)} ms (p95 ${started.p95.toFixed(1)}), ` +
            `started ${afterPrevious} ms after the previous task completed`,
        );
      }
    });
  }
  console.log(
    JSON.stringify({ probe: 'wft-dispatch', date: new Date().toISOString(), runs: RUNS - 1, chain: 8, figures }),
  );
} finally {
  await connection.close();
  await server.stop();
}
