// Wraps every node activity on the worker: its outcome becomes metrics (rows, duration, ledger
// status, last success) and a failure is reported to the error tracker with its context. Nothing
// here changes what the activity returns or throws.
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { NodeInput, NodeResult } from '../pipelines/types.js';
import type { ErrorReporter } from './error-reporting.js';
import { bounded, jobDuration, jobLastSuccess, jobRows, ledgerRuns } from './metrics.js';

const isNodeInput = (v: unknown): v is NodeInput =>
  typeof v === 'object' && v !== null && 'nodeId' in v && 'pipeline' in v;

export function activityInterceptors(reporter: ErrorReporter): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const node = input.args[0];
        if (!isNodeInput(node)) return next(input);
        const labels = { pipeline: bounded('pipeline', node.pipeline), job: bounded('job', node.nodeId) };
        const started = Date.now();
        try {
          const result = (await next(input)) as NodeResult;
          const seconds = (Date.now() - started) / 1000;
          if (result?.skipped) {
            ledgerRuns.inc({ ...labels, status: 'SKIPPED' });
            jobDuration.observe({ ...labels, outcome: 'skipped' }, seconds);
          } else {
            const rows = result?.rows ?? 0;
            const rejected = result?.rejected ?? 0;
            jobRows.inc({ ...labels, kind: 'read' }, rows);
            jobRows.inc({ ...labels, kind: 'loaded' }, Math.max(0, rows - rejected));
            jobRows.inc({ ...labels, kind: 'rejected' }, rejected);
            ledgerRuns.inc({ ...labels, status: 'SUCCESS' });
            jobDuration.observe({ ...labels, outcome: 'succeeded' }, seconds);
            jobLastSuccess.set({ job: labels.job }, Date.now() / 1000);
          }
          return result;
        } catch (err) {
          ledgerRuns.inc({ ...labels, status: 'FAILED' });
          jobDuration.observe({ ...labels, outcome: 'failed' }, (Date.now() - started) / 1000);
          const info = ctx.info;
          reporter.report(err, {
            pipeline: node.pipeline,
            node: node.nodeId,
            activity: info.activityType,
            targetDate: node.targetDate ?? null,
            attempt: info.attempt,
            workflowId: info.workflowExecution?.workflowId,
            runId: info.workflowExecution?.runId,
            errorType: (err as Error)?.name,
          });
          throw err;
        }
      },
    };
    return { inbound };
  };
}
