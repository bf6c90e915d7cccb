// The five dimensions: what each reads from the OLTP source, which columns it tracks (their hash
// decides whether a version changed) and which source rows it refuses.
import type { StageSpec } from '../stage.js';

export interface DimensionSpec {
  job: string;
  table: string;
  surrogateKey: string;
  businessKey: string;
  kind: 'scd2' | 'type1';
  /** Full snapshot of the source table: only a full read can notice hard deletes. */
  stage: StageSpec;
  /** Columns copied into the dimension; their hash is the change detector. */
  tracked: readonly string[];
  /** SQL over the stage's columns: a reason to reject the row, or NULL. */
  rejectReason: string;
}

const TS = 'TIMESTAMPTZ';

export const DIM_TENANT: DimensionSpec = {
  job: 'sync_dim_tenant',
  table: 'dw.dim_tenant',
  surrogateKey: 'tenant_key',
  businessKey: 'tenant_id',
  kind: 'scd2',
  stage: {
    table: 'stage_tenants',
    columns: [
      ['tenant_id', 'UUID'],
      ['tenant_name', 'TEXT'],
      ['region', 'TEXT'],
      ['plan', 'TEXT'],
      ['is_active', 'BOOLEAN'],
      ['created_at', TS],
      ['updated_at', TS],
    ],
    select: 'SELECT tenant_id, name, region, plan, is_active, created_at, updated_at FROM platform.tenants',
  },
  tracked: ['tenant_name', 'region', 'plan', 'is_active'],
  rejectReason: `CASE WHEN tenant_id IS NULL THEN 'missing tenant_id'
    WHEN nullif(trim(tenant_name), '') IS NULL THEN 'missing tenant name'
    WHEN is_active IS NULL THEN 'missing is_active' END`,
};

export const DIM_LEARNER: DimensionSpec = {
  job: 'sync_dim_learner',
  table: 'dw.dim_learner',
  surrogateKey: 'learner_key',
  businessKey: 'learner_id',
  kind: 'scd2',
  stage: {
    table: 'stage_learners',
    columns: [
      ['learner_id', 'UUID'],
      ['tenant_id', 'UUID'],
      ['grade_level', 'INTEGER'],
      ['preferred_language', 'TEXT'],
      ['is_active', 'BOOLEAN'],
      ['created_at', TS],
      ['updated_at', TS],
    ],
    select:
      'SELECT learner_id, tenant_id, grade_level, preferred_language, is_active, created_at, updated_at ' +
      'FROM platform.learners',
  },
  tracked: ['tenant_id', 'grade_level', 'preferred_language', 'is_active'],
  rejectReason: `CASE WHEN learner_id IS NULL THEN 'missing learner_id'
    WHEN tenant_id IS NULL THEN 'missing tenant_id'
    WHEN grade_level IS NOT NULL AND grade_level NOT BETWEEN 0 AND 13 THEN 'grade_level outside 0..13'
    WHEN is_active IS NULL THEN 'missing is_active' END`,
};

export const DIM_USER: DimensionSpec = {
  job: 'sync_dim_user',
  table: 'dw.dim_user',
  surrogateKey: 'user_key',
  businessKey: 'user_id',
  kind: 'type1',
  stage: {
    table: 'stage_users',
    columns: [
      ['user_id', 'UUID'],
      ['tenant_id', 'UUID'],
      ['role', 'TEXT'],
      ['display_name', 'TEXT'],
      ['is_active', 'BOOLEAN'],
      ['updated_at', TS],
    ],
    select: 'SELECT user_id, tenant_id, role, display_name, is_active, updated_at FROM platform.users',
  },
  tracked: ['tenant_id', 'role', 'display_name', 'is_active'],
  rejectReason: `CASE WHEN user_id IS NULL THEN 'missing user_id'
    WHEN role IS NULL OR role NOT IN ('teacher', 'parent') THEN 'role is neither teacher nor parent'
    WHEN is_active IS NULL THEN 'missing is_active' END`,
};

export const DIM_SUBJECT: DimensionSpec = {
  job: 'sync_dim_subject',
  table: 'dw.dim_subject',
  surrogateKey: 'subject_key',
  businessKey: 'subject_id',
  kind: 'type1',
  stage: {
    table: 'stage_subjects',
    columns: [
      ['subject_id', 'TEXT'],
      ['subject_name', 'TEXT'],
      ['is_active', 'BOOLEAN'],
      ['updated_at', TS],
    ],
    select: 'SELECT subject_id, name, is_active, updated_at FROM platform.subjects',
  },
  tracked: ['subject_name', 'is_active'],
  rejectReason: `CASE WHEN nullif(trim(subject_id), '') IS NULL THEN 'missing subject_id'
    WHEN nullif(trim(subject_name), '') IS NULL THEN 'missing subject name'
    WHEN is_active IS NULL THEN 'missing is_active' END`,
};

export const DIM_SKILL: DimensionSpec = {
  job: 'sync_dim_skill',
  table: 'dw.dim_skill',
  surrogateKey: 'skill_key',
  businessKey: 'skill_id',
  kind: 'type1',
  stage: {
    table: 'stage_skills',
    columns: [
      ['skill_id', 'UUID'],
      ['subject_id', 'TEXT'],
      ['skill_code', 'TEXT'],
      ['skill_name', 'TEXT'],
      ['grade_level', 'INTEGER'],
      ['updated_at', TS],
    ],
    select: 'SELECT skill_id, subject_id, code, name, grade_level, updated_at FROM platform.skills',
  },
  tracked: ['subject_id', 'skill_code', 'skill_name', 'grade_level'],
  rejectReason: `CASE WHEN skill_id IS NULL THEN 'missing skill_id'
    WHEN subject_id IS NULL THEN 'missing subject_id'
    WHEN skill_code IS NULL OR skill_name IS NULL THEN 'missing skill code or name'
    WHEN grade_level IS NOT NULL AND grade_level NOT BETWEEN 0 AND 13 THEN 'grade_level outside 0..13' END`,
};

export const DIMENSIONS = [DIM_TENANT, DIM_LEARNER, DIM_USER, DIM_SUBJECT, DIM_SKILL] as const;
