// Why: the workflow's clock sees a node from "scheduled" to "result recorded", which includes
// queueing and workflow-task latency; users asked how long the activity itself ran. This worker
// interceptor measures each node activity's execution inside the worker and returns it in the
// NodeResult (activityMs), so the run's progress and the CLI can print both side by side.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

const isNodeResult = (v: unknown): v is { rows: number; activityMs?: number } =>
  typeof v === 'object' && v !== null && typeof (v as { rows?: unknown }).rows === 'number';

/** Adds activityMs (wall time of the activity function in this worker) to every NodeResult. */
export const activityTimingInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      const started = performance.now();
      const result = await next(input);
      return isNodeResult(result) ? { ...result, activityMs: Math.round(performance.now() - started) } : result;
    },
  },
});
