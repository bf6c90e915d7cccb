// The one wrapper around every activity the worker registers, with the three things each one needs
// whatever its family: a heartbeat from its first moment (so a lost worker is noticed within the
// retry class's heartbeat timeout, even in activities that never report a position), retry by
// cause — outages retry for the outage window, configuration/auth/validation errors never, and an
// error of unknown cause at most UNKNOWN_ERROR_MAX_ATTEMPTS times — and a failure masked by the one
// masking function (src/secrets.ts) before Temporal records it in workflow history, so a secret
// inside an upstream error message never reaches the server, the Web UI or `temporal workflow show`.
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors.js';
import { redactError } from '../secrets.js';
import { activityContext } from './activity-context.js';
import { describeFailure, outageKind } from './error-causes.js';
import { startHeartbeat } from './heartbeat.js';

export const UNKNOWN_ERROR_MAX_ATTEMPTS = 5;

/** The Temporal failure type of an outage; retryable, named so the Web UI shows the cause. */
export const OUTAGE_FAILURE_TYPE = 'InfrastructureOutage';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyActivity = (...args: any[]) => Promise<unknown>;

export function guardActivities<T extends Record<string, AnyActivity>>(activities: T): T {
  const out: Record<string, AnyActivity> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: unknown[]) => {
      const nodeId = (args[0] as { nodeId?: unknown } | undefined)?.nodeId;
      const hb = startHeartbeat(typeof nodeId === 'string' ? { node: nodeId } : { activity: name });
      try {
        return await fn(...args);
      } catch (err) {
        throw redactError(failureForRetryPolicy(err, activityContext()?.info.attempt ?? 1));
      } finally {
        hb.stop();
      }
    };
  }
  return out as T;
}

/** What the retry policy sees: outages retryable with their cause named; unknown errors capped. */
export function failureForRetryPolicy(err: unknown, attempt: number): unknown {
  if (err instanceof TemporalFailure) return err;
  const name = (err as Error | undefined)?.name ?? 'Error';
  if ((NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(name)) return err;
  if (outageKind(err)) {
    return ApplicationFailure.create({ message: describeFailure(err), type: OUTAGE_FAILURE_TYPE, nonRetryable: false });
  }
  if (attempt >= UNKNOWN_ERROR_MAX_ATTEMPTS) {
    return ApplicationFailure.create({
      message: `${describeFailure(err)} (not an outage: gave up after ${attempt} attempts)`,
      type: name,
      nonRetryable: true,
    });
  }
  return err;
}
