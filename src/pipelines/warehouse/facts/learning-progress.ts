// fact_learning_progress: the daily skill-mastery snapshot, one row per learner and skill, with
// the change since the day before. Dimension versions are those valid at the end of the day;
// the tenant is the learner's tenant in that version.
import { asOfJoin, missingVersion, type FactSpec } from './spec.js';

export const FACT_LEARNING_PROGRESS: FactSpec = {
  job: 'build_fact_learning_progress',
  table: 'dw.fact_learning_progress',
  grain: 'mastery snapshots',
  columns: [
    'date_key',
    'learner_id',
    'skill_id',
    'tenant_key',
    'learner_key',
    'skill_key',
    'subject_key',
    'mastery_level',
    'mastery_change_1d',
    'practice_count',
    'is_mastered',
  ],
  stages: ({ date, previousDate }) => [
    {
      table: 'stage_mastery',
      columns: [
        ['learner_id', 'UUID'],
        ['skill_id', 'UUID'],
        ['snapshot_date', 'DATE'],
        ['mastery_level', 'NUMERIC'],
        ['practice_count', 'INTEGER'],
        ['computed_at', 'TIMESTAMPTZ'],
      ],
      select: `SELECT learner_id, skill_id, snapshot_date, mastery_level, practice_count, computed_at
        FROM platform.skill_mastery_daily
                WHERE snapshot_date IN ('${previousDate}'::date, '${date}'::date)`,
    },
  ],
  candidates: ({ date, previousDate, dateKey, dayStart, dayEnd }) => {
    const endOfDay = `(${dayEnd} - interval '1 microsecond')`;
    return `
    SELECT ${dateKey} AS date_key, m.learner_id, m.skill_id, t.tenant_key, l.learner_key, k.skill_key, sub.subject_key,
           m.mastery_level, m.mastery_level - p.mastery_level AS mastery_change_1d, m.practice_count,
           m.mastery_level >= 0.8 AS is_mastered,
           CASE WHEN m.learner_id IS NULL THEN 'missing learner_id'
                WHEN m.skill_id IS NULL THEN 'missing skill_id'
                WHEN m.mastery_level IS NULL OR m.mastery_level NOT BETWEEN 0 AND 1 THEN 'mastery_level outside 0..1'
                WHEN m.practice_count IS NULL OR m.practice_count < 0 THEN 'practice_count negative or missing'
                WHEN m.computed_at < ${dayStart} THEN 'computed before the snapshot day began'
                WHEN m.dup > 1 THEN 'duplicate snapshot for learner and skill'
                WHEN l.learner_key IS NULL THEN ${missingVersion('learner', 'm.learner_id')}
                WHEN t.tenant_key IS NULL THEN 'learner''s tenant has no version valid at event time'
                WHEN k.skill_key IS NULL THEN 'unknown skill_id'
           END AS reject_reason,
           m.src
      FROM (SELECT s.*, count(*) OVER (PARTITION BY s.learner_id, s.skill_id) AS dup, s AS src
              FROM stage_mastery s WHERE s.snapshot_date = '${date}'::date) m
      LEFT JOIN (SELECT learner_id, skill_id, min(mastery_level) AS mastery_level FROM stage_mastery
                  WHERE snapshot_date = '${previousDate}'::date AND mastery_level BETWEEN 0 AND 1
                  GROUP BY learner_id, skill_id HAVING count(*) = 1) p ON p.learner_id = m.learner_id
                    AND p.skill_id = m.skill_id
      ${asOfJoin('l', 'learner', 'm.learner_id', endOfDay)}
      ${asOfJoin('t', 'tenant', 'l.tenant_id', endOfDay)}
      LEFT JOIN dw.dim_skill k ON k.skill_id = m.skill_id
      LEFT JOIN dw.dim_subject sub ON sub.subject_id = k.subject_id`;
  },
};
