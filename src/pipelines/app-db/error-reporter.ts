// A failed table sync is reported, with its context (table, run, attempt, error), to the error
// tracker the operator configured — through the runtime's one reporter (runtime/error-reporting.ts),
// so it is scrubbed of secrets and sent by the same Bugsnag client as failed activities.
import type { ErrorReporter } from '../../runtime/error-reporting.js';
import type { TableFailure, TableFailureReporter } from '../../runtime/deps.js';

export type { TableFailure, TableFailureReporter } from '../../runtime/deps.js';

/** Table failures as tracker events: context "app-db <table>", the run's facts under "sync". */
export function tableFailureReporter(reporter: ErrorReporter): TableFailureReporter {
  return {
    async notify(f: TableFailure): Promise<void> {
      const context = {
        table: f.table,
        pipeline: f.pipeline,
        mode: f.syncMode,
        workflowId: f.workflowId,
        attempt: f.attempt,
      };
      reporter.report(f.error, context, { context: `app-db ${f.table}`, section: 'sync' });
      // Best effort: the failure is already in the ledger and bq_sync_tracking.
      await reporter.flush();
    },
  };
}
