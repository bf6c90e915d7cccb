// Temporal activities of change data capture (issue 18), for every capture source the activities
// registry binds (the OLTP dimensions, a Postgres app database). cdcConsume applies changes for a
// bounded slice, heartbeating the last applied LSN after every committed batch, and returns a small
// summary (rows never travel through the workflow). Cancellation (a stopped workflow, a lost
// heartbeat) aborts the consumer: what it committed is stored with its position, what it did not is
// sent again by Postgres.
import type { Pool } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import { activityContext } from '../activity-context.js';
import type { ActivityDeps } from '../deps.js';
import { startHeartbeat } from '../heartbeat.js';
import { dropCapture, recordLag, runCapture, startCapture, type CaptureSource, type StartResult } from './capture.js';
import { cdcLagBytes, cdcLagSeconds, cdcWalRetainedShare, walRetainedShare } from './status.js';

/** A capture source with a connection to its database, opened for one activity and released after. */
export interface CaptureBinding {
  source: CaptureSource;
  db: Pool;
  release(): Promise<void>;
}

/** Capture source name → how to bind it (throws a ConfigError naming the setting when it is off). */
export type CaptureBindings = Readonly<Record<string, () => CaptureBinding>>;

function bindCapture(bindings: CaptureBindings, name: string): CaptureBinding {
  const bind = Object.hasOwn(bindings, name) ? bindings[name] : undefined;
  if (!bind)
    throw new ValidationError(`unknown CDC source "${name}": known sources are ${Object.keys(bindings).join(', ')}`);
  return bind();
}

export interface CdcConsumeInput {
  source: string;
  /** How long this activity consumes before returning its summary. */
  sliceSeconds: number;
  maxBatchChanges?: number;
}

export interface CdcConsumeResult {
  batches: number;
  transactions: number;
  changes: number;
  opened: number;
  closed: number;
  rejected: number;
  lastAppliedLsn: string | null;
  lagBytes: number | null;
  lagSeconds: number | null;
}

/** Binds capture source `name`, runs `f` with it and releases its connection, whatever happened. */
export async function withCapture<T>(
  bindings: CaptureBindings,
  name: string,
  f: (b: CaptureBinding) => Promise<T>,
): Promise<T> {
  const b = bindCapture(bindings, name);
  try {
    return await f(b);
  } finally {
    await b.release();
  }
}

export function createCdcActivities(deps: ActivityDeps, bindings: CaptureBindings) {
  const { warehouse, config } = deps;
  return {
    async cdcStart(input: { source: string }): Promise<StartResult> {
      return withCapture(bindings, input.source, (b) => startCapture(warehouse, b.db, b.source));
    },

    async cdcConsume(input: CdcConsumeInput): Promise<CdcConsumeResult> {
      return withCapture(bindings, input.source, async ({ source: src, db }) => {
        const hb = startHeartbeat({ source: src.name, slot: src.slot });
        const signal = activityContext()?.cancellationSignal;
        try {
          const summary = await runCapture(warehouse, src, {
            durationMs: input.sliceSeconds * 1000,
            maxBatchChanges: input.maxBatchChanges,
            signal,
            onBatch: (c) => hb.report({ appliedLsn: c.appliedLsn, changes: c.changes }),
          });
          const lag = await recordLag(warehouse, db, src, config.cdc.lagAlertSeconds);
          const lagSeconds = lag.appliedLagSeconds;
          if (lagSeconds !== null) cdcLagSeconds.set({ source: src.name }, lagSeconds);
          if (lag.lagBytes !== null) cdcLagBytes.set({ source: src.name }, lag.lagBytes);
          const share = walRetainedShare(lag.lagBytes, lag.safeWalBytes, lag.walStatus);
          if (share !== null) cdcWalRetainedShare.set({ source: src.name }, share);
          return {
            batches: summary.batches,
            transactions: summary.transactions,
            changes: summary.changes,
            opened: summary.opened,
            closed: summary.closed,
            rejected: summary.rejected,
            lastAppliedLsn: summary.lastAppliedLsn,
            lagBytes: lag.lagBytes,
            lagSeconds,
          };
        } finally {
          hb.stop();
        }
      });
    },

    async cdcDropSlot(input: { source: string }): Promise<boolean> {
      return withCapture(bindings, input.source, (b) => dropCapture(warehouse, b.db, b.source));
    },
  };
}
