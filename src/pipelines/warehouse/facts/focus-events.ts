// fact_focus_events: one row per focus event (lost / restored) that occurred on the date, with
// the learner and tenant of its session as they were at the event. Late arrivals (received after
// the nightly cutoff) are included when the date is rebuilt, and flagged.
import { asOfJoin, missingVersion, type FactSpec } from './spec.js';

export const FACT_FOCUS_EVENTS: FactSpec = {
  job: 'build_fact_focus_events',
  table: 'dw.fact_focus_events',
  grain: 'focus events',
  columns: [
    'date_key',
    'event_id',
    'session_id',
    'tenant_key',
    'learner_key',
    'event_type',
    'focus_seconds',
    'occurred_at',
    'received_at',
    'is_late_arrival',
  ],
  stages: ({ dayStart, dayEnd }) => [
    {
      table: 'stage_focus_events',
      columns: [
        ['event_id', 'BIGINT'],
        ['session_id', 'UUID'],
        ['session_found', 'BOOLEAN'],
        ['learner_id', 'UUID'],
        ['tenant_id', 'UUID'],
        ['event_type', 'TEXT'],
        ['duration_seconds', 'INTEGER'],
        ['occurred_at', 'TIMESTAMPTZ'],
        ['received_at', 'TIMESTAMPTZ'],
      ],
      select: `SELECT e.event_id, e.session_id, s.session_id IS NOT NULL, s.learner_id, s.tenant_id, e.event_type,
                      e.duration_seconds,
                      e.occurred_at, e.received_at
                 FROM platform.session_events e LEFT JOIN platform.sessions s ON s.session_id = e.session_id
                WHERE e.event_type IN ('focus_lost', 'focus_restored') AND e.occurred_at >= ${dayStart}
                  AND e.occurred_at < ${dayEnd}`,
    },
  ],
  candidates: ({ dateKey, dayEnd }) => `
    SELECT ${dateKey} AS date_key, f.event_id, f.session_id, t.tenant_key, l.learner_key, f.event_type,
           CASE WHEN f.event_type = 'focus_lost' THEN f.duration_seconds END AS focus_seconds,
           f.occurred_at, f.received_at, f.received_at >= ${dayEnd} + interval '2 hours' AS is_late_arrival,
           CASE WHEN f.session_id IS NULL THEN 'missing session_id'
                WHEN NOT f.session_found THEN 'unknown session_id'
                WHEN f.learner_id IS NULL THEN 'missing learner_id'
                WHEN f.event_type = 'focus_lost' AND (f.duration_seconds IS NULL OR f.duration_seconds NOT BETWEEN 0
                  AND 86400)
                  THEN 'focus duration outside 0..86400 s'
                WHEN f.received_at < f.occurred_at - interval '1 hour' THEN 'received before it occurred'
                WHEN l.learner_key IS NULL THEN ${missingVersion('learner', 'f.learner_id')}
                WHEN t.tenant_key IS NULL THEN ${missingVersion('tenant', 'f.tenant_id')}
           END AS reject_reason,
           f AS src
      FROM stage_focus_events f
      ${asOfJoin('l', 'learner', 'f.learner_id', 'f.occurred_at')}
      ${asOfJoin('t', 'tenant', 'f.tenant_id', 'f.occurred_at')}`,
};
