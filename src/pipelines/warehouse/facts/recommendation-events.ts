// fact_recommendation_events: one row per AI recommendation event (shown, accepted, dismissed,
// completed) that occurred on the date, with the model version and its confidence.
import { asOfJoin, missingVersion, type FactSpec } from './spec.js';

export const RECOMMENDATION_EVENT_TYPES = ['shown', 'accepted', 'dismissed', 'completed'] as const;

export const FACT_RECOMMENDATION_EVENTS: FactSpec = {
  job: 'build_fact_recommendation_events',
  table: 'dw.fact_recommendation_events',
  grain: 'recommendation events',
  columns: [
    'date_key',
    'event_id',
    'recommendation_id',
    'tenant_key',
    'learner_key',
    'skill_key',
    'subject_key',
    'event_type',
    'model_version',
    'confidence',
    'occurred_at',
  ],
  stages: ({ dayStart, dayEnd }) => [
    {
      table: 'stage_recommendations',
      columns: [
        ['event_id', 'BIGINT'],
        ['recommendation_id', 'UUID'],
        ['tenant_id', 'UUID'],
        ['learner_id', 'UUID'],
        ['skill_id', 'UUID'],
        ['event_type', 'TEXT'],
        ['model_version', 'TEXT'],
        ['confidence', 'NUMERIC'],
        ['occurred_at', 'TIMESTAMPTZ'],
      ],
      select: `SELECT event_id, recommendation_id, tenant_id, learner_id, skill_id, event_type, model_version,
                 confidence, occurred_at
                 FROM platform.recommendation_events WHERE occurred_at >= ${dayStart} AND occurred_at < ${dayEnd}`,
    },
  ],
  candidates: ({ dateKey }) => `
    SELECT ${dateKey} AS date_key, r.event_id, r.recommendation_id, t.tenant_key, l.learner_key, k.skill_key,
           sub.subject_key,
           r.event_type, r.model_version, r.confidence, r.occurred_at,
           CASE WHEN r.learner_id IS NULL THEN 'missing learner_id'
                WHEN r.tenant_id IS NULL THEN 'missing tenant_id'
                WHEN r.event_type NOT IN (${RECOMMENDATION_EVENT_TYPES.map((t) => `'${t}'`).join(', ')})
                  THEN 'unknown event_type'
                WHEN r.confidence IS NULL OR r.confidence NOT BETWEEN 0 AND 1 THEN 'confidence outside 0..1'
                WHEN l.learner_key IS NULL THEN ${missingVersion('learner', 'r.learner_id')}
                WHEN t.tenant_key IS NULL THEN ${missingVersion('tenant', 'r.tenant_id')}
                WHEN r.skill_id IS NOT NULL AND k.skill_key IS NULL THEN 'unknown skill_id'
           END AS reject_reason,
           r AS src
      FROM stage_recommendations r
      ${asOfJoin('l', 'learner', 'r.learner_id', 'r.occurred_at')}
      ${asOfJoin('t', 'tenant', 'r.tenant_id', 'r.occurred_at')}
      LEFT JOIN dw.dim_skill k ON k.skill_id = r.skill_id
      LEFT JOIN dw.dim_subject sub ON sub.subject_id = k.subject_id`,
};
