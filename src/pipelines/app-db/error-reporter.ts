// A failed table sync is reported, with its context (table, run, attempt, error), to the error
// tracker the operator configured: one small interface, Bugsnag (the seed's tracker) behind it.
import BugsnagModule, { type Client, type Config, type Event } from '@bugsnag/js';
import type { Logger } from 'pino';
import type { ErrorReporter, TableFailure } from '../../runtime/deps.js';

// @bugsnag/js is CommonJS typed as an ES default export: under NodeNext the default import is the
// module object at type level and the client factory at run time; this reads both the same way.
type BugsnagFactory = { createClient(opts: Config & { sendCode?: boolean }): Client };
const Bugsnag = ((BugsnagModule as unknown as { default?: BugsnagFactory }).default ??
  BugsnagModule) as unknown as BugsnagFactory;

export type { ErrorReporter, TableFailure } from '../../runtime/deps.js';

/**
 * Bugsnag through its official SDK (@bugsnag/js), as the seed does. A client of our own, not the
 * process-wide singleton, with automatic error detection and sessions off: the worker's crashes are
 * not this reporter's business, only failed table syncs. BUGSNAG_NOTIFY_URL points it at another
 * collector (on-premise Bugsnag, or the tests' fake).
 */
export function bugsnagReporter(opts: { apiKey: string; notifyUrl: string; logger?: Logger }): ErrorReporter {
  const client = Bugsnag.createClient({
    apiKey: opts.apiKey,
    endpoints: { notify: opts.notifyUrl, sessions: opts.notifyUrl },
    autoDetectErrors: false,
    autoTrackSessions: false,
    sendCode: false,
    logger: null,
  });
  return {
    notify(f: TableFailure): Promise<void> {
      return new Promise((resolve) => {
        client.notify(
          f.error,
          (event: Event) => {
            event.context = `app-db ${f.table}`;
            event.severity = 'error';
            event.addMetadata('sync', {
              table: f.table,
              pipeline: f.pipeline,
              mode: f.syncMode,
              workflowId: f.workflowId,
              attempt: f.attempt,
            });
          },
          (err: unknown) => {
            // Best effort: the failure is already in the ledger and bq_sync_tracking.
            if (err) opts.logger?.warn({ err: (err as Error).message }, 'error tracker did not take the report');
            resolve();
          },
        );
      });
    },
  };
}
