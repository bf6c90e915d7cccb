import type { ActivityOptions } from '@temporalio/workflow';
import type { PipelineNode, RetryClass } from '../pipelines/types.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';

// quick: metadata and small SQL. standard: one partition's extract or transform.
// long: big extractions that heartbeat their position and resume on retry.
//
// Failure detection: every activity heartbeats every 5 s (src/runtime/heartbeat.ts, started for
// every activity by src/runtime/activity-guard.ts), so a heartbeat timeout of tens of seconds
// notices a lost worker and hands its activity to another attempt within ~30 s.
//
// Retry by cause: attempts are unlimited; what bounds them is time. An activity retries with
// capped exponential backoff (1 s doubling to 30 s) until scheduleToClose = its startToClose plus
// the outage window (RETRY_OUTAGE_WINDOW_MINUTES, default 30, handed in by the caller because
// workflows cannot read the environment). ConfigError/AuthError/ValidationError never retry, and
// activity-guard.ts turns an error of unknown cause non-retryable after UNKNOWN_ERROR_MAX_ATTEMPTS.
export const DEFAULT_OUTAGE_WINDOW_MINUTES = 30;

interface ClassTimes {
  startToCloseMs: number;
  heartbeatMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export const RETRY_CLASS_TIMES: Record<RetryClass, ClassTimes> = {
  quick: { startToCloseMs: 2 * MINUTE, heartbeatMs: 20 * SECOND },
  standard: { startToCloseMs: 20 * MINUTE, heartbeatMs: 20 * SECOND },
  long: { startToCloseMs: 4 * 60 * MINUTE, heartbeatMs: 30 * SECOND },
};

export const RETRY_BACKOFF = { initialInterval: 1 * SECOND, backoffCoefficient: 2, maximumInterval: 30 * SECOND };

export function activityOptionsFor(
  node: PipelineNode,
  outageWindowMinutes: number = DEFAULT_OUTAGE_WINDOW_MINUTES,
): ActivityOptions {
  const base = RETRY_CLASS_TIMES[node.retryClass ?? 'standard'];
  const o = node.retry ?? {};
  const t = node.timeouts ?? {};
  const startToCloseMs = t.startToCloseSeconds !== undefined ? t.startToCloseSeconds * SECOND : base.startToCloseMs;
  const heartbeatMs = t.heartbeatSeconds !== undefined ? t.heartbeatSeconds * SECOND : base.heartbeatMs;
  const windowMs = Math.max(0, outageWindowMinutes) * MINUTE;
  return {
    startToCloseTimeout: startToCloseMs,
    heartbeatTimeout: heartbeatMs,
    scheduleToCloseTimeout: startToCloseMs + windowMs,
    retry: {
      ...RETRY_BACKOFF,
      // No maximumAttempts: unlimited, bounded by scheduleToClose (the SDK takes no 0).
      ...(o.maximumAttempts !== undefined && { maximumAttempts: o.maximumAttempts }),
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
      ...(o.initialIntervalSeconds !== undefined && { initialInterval: o.initialIntervalSeconds * SECOND }),
      ...(o.maximumIntervalSeconds !== undefined && { maximumInterval: o.maximumIntervalSeconds * SECOND }),
    },
  };
}
