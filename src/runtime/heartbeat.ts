// Warehouse jobs are one transaction each: a retry starts over (the previous attempt rolled
// back), so the heartbeat carries the stage reached — for the UI and for the retry's log line —
// rather than a resume position. It also keeps a long COPY or transform inside the retry class's
// heartbeat timeout.
import { activityContext } from './activity-context.js';

export interface Heartbeat {
  stage(name: string, extra?: Record<string, string | number>): void;
  /** What the previous attempt last reported, if this is a retry. */
  previous(): unknown;
  stop(): void;
}

const EVERY_MS = 5_000;

export function startHeartbeat(details: Record<string, string | number | undefined>): Heartbeat {
  const ctx = activityContext();
  // Outside an activity (CLI run-job, the demo seeder, tests calling the job directly): nothing to tell.
  if (!ctx) return { stage: () => {}, previous: () => undefined, stop: () => {} };
  let current: Record<string, unknown> = { ...details, stage: 'starting' };
  const beat = () => ctx.heartbeat(current);
  beat();
  const timer = setInterval(beat, EVERY_MS);
  timer.unref();
  return {
    stage(name, extra) {
      current = { ...current, ...extra, stage: name };
      beat();
    },
    previous: () => ctx.info.heartbeatDetails,
    stop: () => clearInterval(timer),
  };
}
