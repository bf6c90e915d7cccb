// A retryable source failure that announced how long to wait (Retry-After, a rate-limit reset)
// becomes a Temporal failure carrying that delay, so the next attempt starts when the source said
// it would answer again instead of on the retry policy's backoff. Everything else passes through.
import { ApplicationFailure } from '@temporalio/common';
import { RetryableError } from '../connectors/http-errors.js';

/** At most this long: a retry scheduled hours away is better decided by the policy's own backoff. */
const MAX_ANNOUNCED_WAIT_MS = 60 * 60_000;

export function withAnnouncedWait(err: unknown): unknown {
  if (!(err instanceof RetryableError) || err.retryAfterMs === undefined) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: err.name,
    nonRetryable: false,
    nextRetryDelay: Math.max(1000, Math.min(MAX_ANNOUNCED_WAIT_MS, Math.ceil(err.retryAfterMs))),
    cause: err,
  });
}
