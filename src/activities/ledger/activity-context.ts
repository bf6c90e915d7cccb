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

export function heartbeat(details: unknown): void {
  activityContext()?.heartbeat(details);
}

/** What the previous attempt last heartbeated, if this is a retry. */
export function lastHeartbeat<T>(): T | undefined {
  return activityContext()?.info.heartbeatDetails as T | undefined;
}

export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/**
 * Heartbeats the latest details every `everyMs` while an activity waits on things it does not
 * control (a rate-limit reset, a long Retry-After), so the server does not declare it dead.
 * Every HTTP request has its own timeout, so a truly stuck call still fails. Returns a stop function.
 */
export function heartbeatWhileRunning(details: () => unknown, everyMs = 10_000): () => void {
  const ctx = activityContext();
  if (!ctx) return () => {};
  const timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
