// How big the generated OLTP source is. Everything else (teachers, sessions, homework …) follows
// from three numbers, so one knob scales the whole day.
export interface OltpScale {
  tenants: number;
  learners: number;
  /** Session events a day (activities, responses, focus events): the size that matters. */
  eventsPerDay: number;
}

// The demo's scale (10 tenants, 10,000 learners, 200,000 events a day by default) is config: OLTP_SAMPLE_*.
/** Benchmark scale: a million session events a day. */
export const BENCH_SCALE: OltpScale = { tenants: 50, learners: 100_000, eventsPerDay: 1_000_000 };

export const EVENTS_PER_SESSION = 20;

export function derivedCounts(scale: OltpScale) {
  const teachers = Math.max(scale.tenants, Math.ceil(scale.learners / 25));
  return {
    teachers,
    teachersPerTenant: Math.max(1, Math.floor(teachers / scale.tenants)),
    parents: Math.ceil(scale.learners / 2),
    sessionsPerDay: Math.max(1, Math.floor(scale.eventsPerDay / EVENTS_PER_SESSION)),
    homeworkPerDay: Math.ceil(scale.learners * 0.3),
    /** Recommendation events come in pairs: shown, then the learner's answer. */
    recommendationEventsPerDay: 2 * Math.ceil(scale.learners * 0.2),
  };
}

export function checkScale(scale: OltpScale): void {
  for (const [k, v] of Object.entries(scale)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`OLTP scale ${k} must be a positive integer, got ${v}`);
  }
  if (scale.eventsPerDay < EVENTS_PER_SESSION)
    throw new Error(`OLTP scale eventsPerDay must be at least ${EVENTS_PER_SESSION}`);
  if (scale.eventsPerDay >= 1_000_000_000)
    throw new Error('OLTP scale eventsPerDay must be below 1e9 (event ids are day * 1e9 + n)');
}
