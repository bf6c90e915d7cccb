// fact_sessions: one row per session started on the date, with its events aggregated. The
// session's learner and tenant are the versions valid when it started.
import { asOfJoin, missingVersion, type FactSpec } from './spec.js';

export const FACT_SESSIONS: FactSpec = {
  job: 'build_fact_sessions',
  table: 'dw.fact_sessions',
  grain: 'sessions',
  columns: [
    'date_key',
    'session_id',
    'tenant_key',
    'learner_key',
    'subject_key',
    'device',
    'started_at',
    'ended_at',
    'duration_seconds',
    'event_count',
    'activities_completed',
    'responses',
    'correct_responses',
    'focus_lost_count',
    'focus_lost_seconds',
    'late_event_count',
  ],
  stages: ({ dayStart, dayEnd }) => [
    {
      table: 'stage_sessions',
      columns: [
        ['session_id', 'UUID'],
        ['tenant_id', 'UUID'],
        ['learner_id', 'UUID'],
        ['subject_id', 'TEXT'],
        ['device', 'TEXT'],
        ['started_at', 'TIMESTAMPTZ'],
        ['ended_at', 'TIMESTAMPTZ'],
      ],
      select: `SELECT session_id, tenant_id, learner_id, subject_id, device, started_at, ended_at FROM platform.sessions
                WHERE started_at >= ${dayStart} AND started_at < ${dayEnd}`,
    },
    sessionEventsStage(dayStart, dayEnd),
  ],
  candidates: ({ dateKey, dayEnd }) => `
    SELECT ${dateKey} AS date_key, s.session_id, t.tenant_key, l.learner_key, sub.subject_key, s.device, s.started_at,
           s.ended_at,
           extract(epoch FROM s.ended_at - s.started_at)::int AS duration_seconds,
           coalesce(e.event_count, 0)::int AS event_count,
           coalesce(e.activities_completed, 0)::int AS activities_completed,
           coalesce(e.responses, 0)::int AS responses, coalesce(e.correct_responses, 0)::int AS correct_responses,
           coalesce(e.focus_lost_count, 0)::int AS focus_lost_count,
           coalesce(e.focus_lost_seconds, 0)::int AS focus_lost_seconds,
           coalesce(e.late_event_count, 0)::int AS late_event_count,
           CASE WHEN s.learner_id IS NULL THEN 'missing learner_id'
                WHEN s.tenant_id IS NULL THEN 'missing tenant_id'
                WHEN s.ended_at < s.started_at THEN 'session ended before it started'
                WHEN s.ended_at > s.started_at + interval '1 day' THEN 'session lasted more than a day'
                WHEN l.learner_key IS NULL THEN ${missingVersion('learner', 's.learner_id')}
                WHEN t.tenant_key IS NULL THEN ${missingVersion('tenant', 's.tenant_id')}
                WHEN s.subject_id IS NOT NULL AND sub.subject_key IS NULL THEN 'unknown subject_id'
           END AS reject_reason,
           s AS src
      FROM stage_sessions s
      LEFT JOIN (
        SELECT session_id, count(*) AS event_count,
               count(*) FILTER (WHERE event_type = 'activity_completed') AS activities_completed,
               count(*) FILTER (WHERE event_type = 'response') AS responses,
               count(*) FILTER (WHERE event_type = 'response' AND is_correct) AS correct_responses,
               count(*) FILTER (WHERE event_type = 'focus_lost') AS focus_lost_count,
               -- impossible focus durations are rejected by build_fact_focus_events; here they add nothing
               sum(duration_seconds) FILTER (WHERE event_type = 'focus_lost' AND duration_seconds BETWEEN 0
                 AND 86400) AS focus_lost_seconds,
               count(*) FILTER (WHERE received_at >= ${dayEnd} + interval '2 hours') AS late_event_count
          FROM stage_session_events GROUP BY session_id) e ON e.session_id = s.session_id
      ${asOfJoin('l', 'learner', 's.learner_id', 's.started_at')}
      ${asOfJoin('t', 'tenant', 's.tenant_id', 's.started_at')}
      LEFT JOIN dw.dim_subject sub ON sub.subject_id = s.subject_id`,
};

/** The events of the day's sessions (also what bench/warehouse.ts moves, against a raw COPY pipe). */
export function sessionEventsStage(dayStart: string, dayEnd: string) {
  return {
    table: 'stage_session_events',
    columns: [
      ['session_id', 'UUID'],
      ['event_type', 'TEXT'],
      ['is_correct', 'BOOLEAN'],
      ['duration_seconds', 'INTEGER'],
      ['occurred_at', 'TIMESTAMPTZ'],
      ['received_at', 'TIMESTAMPTZ'],
    ],
    select: `SELECT e.session_id, e.event_type, e.is_correct, e.duration_seconds, e.occurred_at, e.received_at
               FROM platform.sessions s JOIN platform.session_events e ON e.session_id = s.session_id
              WHERE s.started_at >= ${dayStart} AND s.started_at < ${dayEnd}`,
  } as const;
}
