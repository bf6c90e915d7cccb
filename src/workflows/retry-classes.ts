import type { ActivityOptions } from '@temporalio/workflow';
import type { PipelineNode, RetryClass } from '../pipelines/types.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';

// quick: metadata and small SQL. standard: one partition's extract or transform.
// long: big extractions that heartbeat their position and resume on retry.
export const RETRY_CLASSES: Record<RetryClass, ActivityOptions> = {
  quick: {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
  },
  standard: {
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
  },
  long: {
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '5 minutes',
    retry: { initialInterval: '30s', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 10 },
  },
};

export function activityOptionsFor(node: PipelineNode): ActivityOptions {
  const base = RETRY_CLASSES[node.retryClass ?? 'standard'];
  const o = node.retry ?? {};
  const t = node.timeouts ?? {};
  return {
    ...base,
    ...(t.startToCloseSeconds !== undefined && { startToCloseTimeout: t.startToCloseSeconds * 1000 }),
    ...(t.heartbeatSeconds !== undefined && { heartbeatTimeout: t.heartbeatSeconds * 1000 }),
    retry: {
      ...base.retry,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
      ...(o.maximumAttempts !== undefined && { maximumAttempts: o.maximumAttempts }),
      ...(o.initialIntervalSeconds !== undefined && { initialInterval: o.initialIntervalSeconds * 1000 }),
      ...(o.maximumIntervalSeconds !== undefined && { maximumInterval: o.maximumIntervalSeconds * 1000 }),
    },
  };
}
