// The deterministic OLTP generator: the source as it stood at the start of a date range, then
// day after day of entity changes, late arrivals and activity. The same scale and dates give the
// same rows on every machine. Each day commits on its own, so a caller can sync dimensions
// between days (the demo replays its week that way; the SCD2 tests do it by hand).
import type pg from 'pg';
import { withTransaction } from '../../../connectors/postgres.js';
import { dateRange } from '../../dates.js';
import { deliverLateEvents, insertDayActivity } from './activity.js';
import { applyEntityChanges, insertBaselineEntities } from './entities.js';
import { createOltpSchema, OLTP_TABLES, truncateOltp } from './schema.js';
import { checkScale, type OltpScale } from './scale.js';

export type { OltpScale } from './scale.js';
export { BENCH_SCALE } from './scale.js';

/** Empties the source and writes the entities as they stood at midnight UTC of `from`. */
export async function seedOltpBaseline(oltp: pg.Pool, scale: OltpScale, from: string): Promise<void> {
  checkScale(scale);
  await createOltpSchema(oltp);
  await withTransaction(oltp, async (tx) => {
    await truncateOltp(tx);
    await insertBaselineEntities(tx, scale, from);
  });
}

/**
 * One day at the source: that day's entity changes, yesterday's late events arriving, and the
 * day's activity. Days must be applied in order, each once (rerun the whole seed to start over).
 */
export async function applyOltpDay(
  oltp: pg.Pool,
  scale: OltpScale,
  date: string,
  opts: { eventsPerDay?: number; analyze?: boolean } = {},
): Promise<void> {
  const dayScale = { ...scale, eventsPerDay: opts.eventsPerDay ?? scale.eventsPerDay };
  checkScale(dayScale);
  await withTransaction(oltp, async (tx) => {
    await applyEntityChanges(tx, dayScale, date);
    await deliverLateEvents(tx, date);
    await insertDayActivity(tx, dayScale, date);
  });
  // Fresh statistics keep the extract queries' plans sane right after a bulk load.
  if (opts.analyze !== false) await oltp.query(`ANALYZE ${OLTP_TABLES.map((t) => `platform.${t}`).join(', ')}`);
}

export interface OltpSeedOptions {
  from: string;
  to: string;
  scale: OltpScale;
  /** Called after the baseline (with `from`) and after each day (with that day): the demo syncs dimensions here. */
  afterStep?: (step: { kind: 'baseline' | 'day'; date: string }) => Promise<void>;
}

export type OltpCounts = Record<(typeof OLTP_TABLES)[number] | 'pending_late_events', number>;

const BULK_LOAD_INDEXES = ['platform.session_events_session', 'platform.session_events_occurred_at'];

/** Rewrites the whole source for a date range. Idempotent: a rerun gives the same rows. */
export async function seedOltpSource(oltp: pg.Pool, opts: OltpSeedOptions): Promise<OltpCounts> {
  await seedOltpBaseline(oltp, opts.scale, opts.from);
  await opts.afterStep?.({ kind: 'baseline', date: opts.from });
  // Secondary indexes of the big event table are built once at the end: maintaining them row by
  // row (random uuids, random times) costs twice the load itself.
  await oltp.query(`DROP INDEX IF EXISTS ${BULK_LOAD_INDEXES.join(', ')}`);
  for (const date of dateRange(opts.from, opts.to)) {
    await applyOltpDay(oltp, opts.scale, date, { analyze: false });
    await opts.afterStep?.({ kind: 'day', date });
  }
  await createOltpSchema(oltp);
  await oltp.query(`ANALYZE ${OLTP_TABLES.map((t) => `platform.${t}`).join(', ')}`);
  return countOltp(oltp);
}

export async function countOltp(oltp: pg.Pool): Promise<OltpCounts> {
  const parts = OLTP_TABLES.map((t) => `(SELECT count(*) FROM platform.${t})::int AS ${t}`);
  const { rows } = await oltp.query<OltpCounts>(
    `SELECT ${parts.join(', ')}, (SELECT count(*) FROM oltp_sim.pending_session_events)::int AS pending_late_events`,
  );
  return rows[0]!;
}
