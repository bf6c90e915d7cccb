// fact_homework_events: one row per homework submission made on the date; learner and tenant as
// they were at submission, the teacher (Type 1) as it is.
import { asOfJoin, missingVersion, type FactSpec } from './spec.js';

export const FACT_HOMEWORK_EVENTS: FactSpec = {
  job: 'build_fact_homework_events',
  table: 'dw.fact_homework_events',
  grain: 'homework submissions',
  columns: [
    'date_key',
    'submission_id',
    'tenant_key',
    'learner_key',
    'subject_key',
    'teacher_user_key',
    'assigned_at',
    'due_at',
    'submitted_at',
    'score',
    'max_score',
    'score_pct',
    'is_late',
    'hours_to_submit',
  ],
  stages: ({ dayStart, dayEnd }) => [
    {
      table: 'stage_homework',
      columns: [
        ['submission_id', 'UUID'],
        ['tenant_id', 'UUID'],
        ['learner_id', 'UUID'],
        ['subject_id', 'TEXT'],
        ['teacher_id', 'UUID'],
        ['assigned_at', 'TIMESTAMPTZ'],
        ['due_at', 'TIMESTAMPTZ'],
        ['submitted_at', 'TIMESTAMPTZ'],
        ['score', 'NUMERIC'],
        ['max_score', 'NUMERIC'],
        ['status', 'TEXT'],
      ],
      select: `SELECT submission_id, tenant_id, learner_id, subject_id, teacher_id, assigned_at, due_at, submitted_at,
                 score, max_score, status
                 FROM platform.homework_submissions WHERE submitted_at >= ${dayStart} AND submitted_at < ${dayEnd}`,
    },
  ],
  candidates: ({ dateKey }) => `
    SELECT ${dateKey} AS date_key, h.submission_id, t.tenant_key, l.learner_key, sub.subject_key,
           u.user_key AS teacher_user_key,
           h.assigned_at, h.due_at, h.submitted_at, h.score, h.max_score,
           round(100 * h.score / nullif(h.max_score, 0), 2) AS score_pct,
           coalesce(h.submitted_at > h.due_at, false) AS is_late,
           round((extract(epoch FROM h.submitted_at - h.assigned_at) / 3600)::numeric, 2) AS hours_to_submit,
           CASE WHEN h.learner_id IS NULL THEN 'missing learner_id'
                WHEN h.tenant_id IS NULL THEN 'missing tenant_id'
                WHEN h.assigned_at IS NULL THEN 'missing assigned_at'
                WHEN h.submitted_at < h.assigned_at THEN 'submitted before it was assigned'
                WHEN h.due_at < h.assigned_at THEN 'due before it was assigned'
                WHEN h.max_score IS NULL OR h.max_score <= 0 THEN 'max_score not positive'
                WHEN h.score IS NULL OR h.score < 0 OR h.score > h.max_score THEN 'score outside 0..max_score'
                WHEN l.learner_key IS NULL THEN ${missingVersion('learner', 'h.learner_id')}
                WHEN t.tenant_key IS NULL THEN ${missingVersion('tenant', 'h.tenant_id')}
                WHEN h.subject_id IS NOT NULL AND sub.subject_key IS NULL THEN 'unknown subject_id'
                WHEN h.teacher_id IS NOT NULL AND u.user_key IS NULL THEN 'unknown teacher_id'
           END AS reject_reason,
           h AS src
      FROM stage_homework h
      ${asOfJoin('l', 'learner', 'h.learner_id', 'h.submitted_at')}
      ${asOfJoin('t', 'tenant', 'h.tenant_id', 'h.submitted_at')}
      LEFT JOIN dw.dim_subject sub ON sub.subject_id = h.subject_id
      LEFT JOIN dw.dim_user u ON u.user_id = h.teacher_id`,
};
