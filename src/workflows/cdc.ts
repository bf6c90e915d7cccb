// CDC capture of one source (issue 18): a long-running workflow that starts the source (idempotent:
// publication, slot, initial copy) once, then runs the heartbeating cdcConsume activity slice after
// slice, keeping only running totals, and continues as new after `slicesPerRun` slices (or when the
// server suggests it) so its history stays bounded. Signal `stop` ends it after the current slice.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';
import type { CdcConsumeInput, CdcConsumeResult } from '../runtime/cdc/activities.js';
import { DEFAULT_OUTAGE_WINDOW_MINUTES, RETRY_BACKOFF } from './retry-classes.js';

export interface CdcCaptureInput {
  source: string;
  sliceSeconds?: number;
  slicesPerRun?: number;
  maxBatchChanges?: number;
  outageWindowMinutes?: number;
  /** Carried across continue-as-new. */
  totals?: CdcTotals;
}

/** Running totals across slices and continue-as-new: the slices' summed counts, the last position and lag. */
export type CdcTotals = { runs: number; slices: number } & Pick<
  CdcConsumeResult,
  'changes' | 'opened' | 'closed' | 'rejected' | 'lastAppliedLsn' | 'lagBytes' | 'lagSeconds'
>;

export const cdcProgressQuery = defineQuery<CdcTotals>('cdcProgress');
export const cdcStopSignal = defineSignal('stop');

export const CDC_WORKFLOW_ID_PREFIX = 'cdc-';
export const cdcWorkflowId = (source: string) => `${CDC_WORKFLOW_ID_PREFIX}${source}`;

interface CdcActivities {
  cdcStart(input: { source: string }): Promise<{ created: boolean }>;
  cdcConsume(input: CdcConsumeInput): Promise<CdcConsumeResult>;
}

export async function cdcCapture(input: CdcCaptureInput): Promise<CdcTotals> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(input.source)) {
    throw ApplicationFailure.nonRetryable(`invalid CDC source name "${input.source}"`, 'ValidationError');
  }
  const sliceSeconds = Math.max(1, input.sliceSeconds ?? 60);
  const slicesPerRun = Math.max(1, input.slicesPerRun ?? 100);
  const windowMs = Math.max(0, input.outageWindowMinutes ?? DEFAULT_OUTAGE_WINDOW_MINUTES) * 60_000;
  const retry = { ...RETRY_BACKOFF, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };
  const { cdcStart } = proxyActivities<CdcActivities>({
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: 4 * 3_600_000 + windowMs,
    retry,
  });
  const { cdcConsume } = proxyActivities<CdcActivities>({
    startToCloseTimeout: (sliceSeconds + 120) * 1000,
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: (sliceSeconds + 120) * 1000 + windowMs,
    retry,
  });
  const totals: CdcTotals = input.totals ?? {
    runs: 0,
    slices: 0,
    changes: 0,
    opened: 0,
    closed: 0,
    rejected: 0,
    lastAppliedLsn: null,
    lagBytes: null,
    lagSeconds: null,
  };
  totals.runs++;
  let stopping = false;
  setHandler(cdcProgressQuery, () => totals);
  setHandler(cdcStopSignal, () => {
    stopping = true;
  });
  if (!input.totals) await cdcStart({ source: input.source });
  for (let i = 0; i < slicesPerRun && !stopping; i++) {
    const r = await cdcConsume({ source: input.source, sliceSeconds, maxBatchChanges: input.maxBatchChanges });
    totals.slices++;
    totals.changes += r.changes;
    totals.opened += r.opened;
    totals.closed += r.closed;
    totals.rejected += r.rejected;
    totals.lastAppliedLsn = r.lastAppliedLsn ?? totals.lastAppliedLsn;
    totals.lagBytes = r.lagBytes;
    totals.lagSeconds = r.lagSeconds;
    if (workflowInfo().continueAsNewSuggested) break;
  }
  if (stopping) return totals;
  // Let a stop signal that arrived with the last slice's completion be seen before continuing.
  await condition(() => stopping, 1);
  if (stopping) return totals;
  return continueAsNew<typeof cdcCapture>({ ...input, totals });
}
