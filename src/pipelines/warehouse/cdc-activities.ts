// Temporal activities of CDC (issue 18). cdcConsume applies changes for a bounded slice, heartbeating
// the last applied LSN after every committed batch, and returns a small summary (rows never travel
// through the workflow). Cancellation (a stopped workflow, a lost heartbeat) aborts the consumer: what
// it committed is stored with its position, what it did not is sent again by Postgres.
import type { Config } from '../../config.js';
import type { Pool } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import { activityContext } from '../../runtime/activity-context.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { dropCdc, recordLag, runCdc, startCdc, type CdcSource, type StartResult } from './cdc.js';
import { cdcLagBytes, cdcLagSeconds } from './cdc-status.js';

/** The one CDC source: the OLTP database of WAREHOUSE_CDC_* settings. */
export const CDC_SOURCE_NAMES = ['oltp'] as const;

export function cdcSource(config: Config, oltp: Pool, name: string): CdcSource {
  if (!(CDC_SOURCE_NAMES as readonly string[]).includes(name)) {
    throw new ValidationError(`unknown CDC source "${name}": known sources are ${CDC_SOURCE_NAMES.join(', ')}`);
  }
  const oltpUrl = config.postgres.oltpUrl ?? oltp.options.connectionString;
  if (!oltpUrl)
    throw new ValidationError('CDC needs OLTP_DATABASE_URL (a connection string) for its replication connection');
  return { name, oltpUrl, publication: config.cdc.publication, slot: config.cdc.slot };
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

export function createCdcActivities(deps: ActivityDeps) {
  const { warehouse, oltp, config } = deps;
  return {
    async cdcStart(input: { source: string }): Promise<StartResult> {
      return startCdc(warehouse, oltp, cdcSource(config, oltp, input.source));
    },

    async cdcConsume(input: CdcConsumeInput): Promise<CdcConsumeResult> {
      const src = cdcSource(config, oltp, input.source);
      const hb = startHeartbeat({ source: src.name, slot: src.slot });
      const signal = activityContext()?.cancellationSignal;
      let lagSeconds: number | null = null;
      try {
        const summary = await runCdc(warehouse, src, {
          durationMs: input.sliceSeconds * 1000,
          maxBatchChanges: input.maxBatchChanges,
          signal,
          onBatch: (c) => hb.report({ appliedLsn: c.appliedLsn, changes: c.changes }),
        });
        const lag = await recordLag(warehouse, oltp, src, config.cdc.lagAlertSeconds);
        const stored = await warehouse.query<{ s: number | null }>(
          'SELECT lag_seconds AS s FROM cdc_slot_state WHERE source = $1',
          [src.name],
        );
        lagSeconds = stored.rows[0]?.s ?? null;
        if (lagSeconds !== null) cdcLagSeconds.set({ source: src.name }, lagSeconds);
        if (lag.lagBytes !== null) cdcLagBytes.set({ source: src.name }, lag.lagBytes);
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
    },

    async cdcDropSlot(input: { source: string }): Promise<boolean> {
      return dropCdc(warehouse, oltp, cdcSource(config, oltp, input.source));
    },
  };
}
