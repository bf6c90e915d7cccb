// The one heartbeat helper. Every activity tells Temporal it is alive every HEARTBEAT_EVERY_MS,
// repeating the latest position it reported (never something vaguer), so a lost worker is noticed
// within the retry class's heartbeat timeout and a retry resumes from the last position. Outside an
// activity (CLI run-job, the demo seeder, tests calling a job directly) every call is a no-op.
import type { Context } from '@temporalio/activity';
import { activityContext } from './activity-context.js';

export const HEARTBEAT_EVERY_MS = 5_000;

export interface Heartbeat {
  /** Reports a new position (merged into the current one) at once. */
  report(details: Record<string, unknown>): void;
  /** Names the stage reached, for the UI and the retry's log line. */
  stage(name: string, extra?: Record<string, string | number>): void;
  /** What the previous attempt last reported, if this is a retry. */
  previous(): unknown;
  stop(): void;
}

const NONE: Heartbeat = { report: () => {}, stage: () => {}, previous: () => undefined, stop: () => {} };

/**
 * Starts heartbeating `details` now and every HEARTBEAT_EVERY_MS until stop(). Long waits on
 * things the activity does not control (a rate-limit reset, a Retry-After, a lock) stay alive;
 * every request has its own timeout, so a truly stuck call still fails.
 */
export function startHeartbeat(details: Record<string, unknown> = {}, everyMs = HEARTBEAT_EVERY_MS): Heartbeat {
  const ctx = activityContext();
  if (!ctx) return NONE;
  let current: Record<string, unknown> = { ...details };
  const beat = () => ctx.heartbeat(current);
  beat();
  const timer = setInterval(beat, everyMs);
  timer.unref();
  const handle: Heartbeat = {
    report(next) {
      current = { ...current, ...next };
      beat();
    },
    stage(name, extra) {
      current = { ...current, ...extra, stage: name };
      beat();
    },
    previous: () => ctx.info.heartbeatDetails,
    stop: () => {
      clearInterval(timer);
      if (running.get(ctx) === handle) running.delete(ctx);
    },
  };
  running.set(ctx, handle);
  return handle;
}

const running = new WeakMap<Context, Heartbeat>();

/**
 * Reports a position from code deep inside an activity (a page loop, a per-user loop) without
 * threading the handle through: it goes to the activity's running heartbeat, whose timer then
 * repeats it; with none running it is sent once.
 */
export function reportPosition(details: Record<string, unknown>): void {
  const ctx = activityContext();
  if (!ctx) return;
  const hb = running.get(ctx);
  if (hb) hb.report(details);
  else ctx.heartbeat(details);
}
