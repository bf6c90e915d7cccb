// The Temporal activity context when there is one (a worker), nothing when there is not (the CLI's
// run-job, benchmarks, plain tests): extraction code heartbeats and reads its resume point the
// same way in both.
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

// The latest position each running activity reported, so that a keep-alive repeats it rather than
// overwriting it with something vaguer.
const lastDetails = new WeakMap<Context, unknown>();

export function heartbeat(details: unknown): void {
  const ctx = activityContext();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/** What the previous attempt last heartbeated, if this is a retry. */
export function lastHeartbeat<T>(): T | undefined {
  return activityContext()?.info.heartbeatDetails as T | undefined;
}

export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/**
 * Repeats the latest heartbeat (or `fallback()` before there is one) every `everyMs` while an
 * activity waits on things it does not control (a rate-limit reset, a long Retry-After, another
 * attempt's lock), so the server does not declare it dead. Every HTTP request has its own
 * timeout, so a truly stuck call still fails. Returns a stop function.
 */
export function heartbeatWhileRunning(fallback: () => unknown, everyMs = 10_000): () => void {
  const ctx = activityContext();
  if (!ctx) return () => {};
  const timer = setInterval(() => ctx.heartbeat(lastDetails.has(ctx) ? lastDetails.get(ctx) : fallback()), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
