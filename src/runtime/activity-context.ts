// The Temporal activity context when there is one (a worker), nothing when there is not (the CLI's
// run-job, benchmarks, plain tests): one place answers "am I inside an activity?", so extraction
// code heartbeats, reads its resume point and names its run the same way in both.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** What the previous attempt last heartbeated, if this is a retry. */
export function lastHeartbeat<T>(): T | undefined {
  return activityContext()?.info.heartbeatDetails as T | undefined;
}

export function cancellationSignal(): AbortSignal | undefined {
  return activityContext()?.cancellationSignal;
}

/** "workflowId/runId" of the run this activity serves, or a fresh "local/…" key outside one. */
export function workflowRunKey(): string {
  const wf = activityContext()?.info.workflowExecution;
  return wf ? `${wf.workflowId}/${wf.runId}` : `local/${randomUUID()}`;
}
