// Dimensions of the warehouse star schema (schema dw). Tenant and learner are SCD Type 2: one
// row per version, found by a hash of the tracked columns. Three guarantees are in the schema
// itself, not just in the job: at most one current version per business key (partial unique
// index), a current version is exactly an open one (check), and versions of one key never
// overlap in time (exclusion constraint) — so an as-of join can match at most one version.
// User, subject and skill are Type 1: upserted, with deleted_at when they vanish at the source.
const scd2 = (name: string, key: string, keyType: string, columns: string) => `
CREATE TABLE IF NOT EXISTS dw.dim_${name} (
  ${name}_key    INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ${key}         ${keyType} NOT NULL,
  ${columns},
  row_hash       TEXT NOT NULL,
  effective_from TIMESTAMPTZ NOT NULL,
  effective_to   TIMESTAMPTZ,
  is_current     BOOLEAN NOT NULL,
  CONSTRAINT dim_${name}_current_is_open CHECK (is_current = (effective_to IS NULL)),
  CONSTRAINT dim_${name}_range_ordered CHECK (effective_to IS NULL OR effective_to >= effective_from),
  CONSTRAINT dim_${name}_no_overlap EXCLUDE USING gist (${key} WITH =, tstzrange(effective_from, effective_to) WITH &&)
);
CREATE UNIQUE INDEX IF NOT EXISTS dim_${name}_one_current ON dw.dim_${name} (${key}) WHERE is_current;
CREATE INDEX IF NOT EXISTS dim_${name}_as_of ON dw.dim_${name} (${key}, effective_from);`;

const type1 = (name: string, key: string, keyType: string, columns: string) => `
CREATE TABLE IF NOT EXISTS dw.dim_${name} (
  ${name}_key       INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ${key}            ${keyType} NOT NULL UNIQUE,
  ${columns},
  row_hash          TEXT NOT NULL,
  source_updated_at TIMESTAMPTZ,
  first_seen_at     TIMESTAMPTZ NOT NULL,
  updated_at        TIMESTAMPTZ NOT NULL,
  deleted_at        TIMESTAMPTZ
);`;

export const sql = `
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA IF NOT EXISTS dw;
${scd2('tenant', 'tenant_id', 'UUID', 'tenant_name TEXT NOT NULL, region TEXT, plan TEXT, is_active BOOLEAN NOT NULL')}
${scd2('learner', 'learner_id', 'UUID', 'tenant_id UUID NOT NULL, grade_level INTEGER, preferred_language TEXT, is_active BOOLEAN NOT NULL')}
${type1('user', 'user_id', 'UUID', 'tenant_id UUID, role TEXT NOT NULL, display_name TEXT, is_active BOOLEAN NOT NULL')}
${type1('subject', 'subject_id', 'TEXT', 'subject_name TEXT NOT NULL, is_active BOOLEAN NOT NULL')}
${type1('skill', 'skill_id', 'UUID', 'subject_id TEXT NOT NULL, skill_code TEXT NOT NULL, skill_name TEXT NOT NULL, grade_level INTEGER')}
`;
