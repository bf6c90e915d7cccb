// The OLTP source of the warehouse pipelines: the learning platform's own tables (schema
// `platform`), as the demo, the tests and the benchmark create them. A real install points
// OLTP_DATABASE_URL at the platform's database, which already has these tables.
//
// Entity tables are keyed; event tables are ingestion tables without foreign keys (devices post
// events whatever the server knows), which is where unknown keys and impossible values come from.
import type pg from 'pg';

export const OLTP_SCHEMA = 'platform';
/** Generator bookkeeping that is not part of the platform: events still "in flight" from offline devices. */
export const SIM_SCHEMA = 'oltp_sim';

export const OLTP_TABLES = [
  'tenants',
  'learners',
  'users',
  'subjects',
  'skills',
  'sessions',
  'session_events',
  'homework_submissions',
  'skill_mastery_daily',
  'recommendation_events',
] as const;

export async function createOltpSchema(db: pg.Pool | pg.PoolClient): Promise<void> {
  await db.query(`
    CREATE SCHEMA IF NOT EXISTS platform;
    CREATE SCHEMA IF NOT EXISTS oltp_sim;

    CREATE TABLE IF NOT EXISTS platform.tenants (
      tenant_id   UUID PRIMARY KEY,
      name        TEXT NOT NULL,
      region      TEXT NOT NULL,
      plan        TEXT NOT NULL,
      is_active   BOOLEAN NOT NULL DEFAULT true,
      created_at  TIMESTAMPTZ NOT NULL,
      updated_at  TIMESTAMPTZ NOT NULL);

    CREATE TABLE IF NOT EXISTS platform.learners (
      learner_id         UUID PRIMARY KEY,
      student_number     INTEGER NOT NULL UNIQUE,
      tenant_id          UUID NOT NULL,
      grade_level        INTEGER,
      preferred_language TEXT NOT NULL,
      is_active          BOOLEAN NOT NULL DEFAULT true,
      created_at         TIMESTAMPTZ NOT NULL,
      updated_at         TIMESTAMPTZ NOT NULL);

    CREATE TABLE IF NOT EXISTS platform.users (
      user_id      UUID PRIMARY KEY,
      user_number  INTEGER NOT NULL UNIQUE,
      tenant_id    UUID NOT NULL,
      role         TEXT NOT NULL,
      display_name TEXT NOT NULL,
      is_active    BOOLEAN NOT NULL DEFAULT true,
      created_at   TIMESTAMPTZ NOT NULL,
      updated_at   TIMESTAMPTZ NOT NULL);

    CREATE TABLE IF NOT EXISTS platform.subjects (
      subject_id  TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      is_active   BOOLEAN NOT NULL DEFAULT true,
      updated_at  TIMESTAMPTZ NOT NULL);

    CREATE TABLE IF NOT EXISTS platform.skills (
      skill_id    UUID PRIMARY KEY,
      subject_id  TEXT NOT NULL,
      code        TEXT NOT NULL,
      name        TEXT NOT NULL,
      grade_level INTEGER,
      updated_at  TIMESTAMPTZ NOT NULL);

    CREATE TABLE IF NOT EXISTS platform.sessions (
      session_id  UUID PRIMARY KEY,
      tenant_id   UUID,
      learner_id  UUID,
      subject_id  TEXT,
      device      TEXT,
      started_at  TIMESTAMPTZ NOT NULL,
      ended_at    TIMESTAMPTZ);
    CREATE INDEX IF NOT EXISTS sessions_started_at ON platform.sessions (started_at);

    CREATE TABLE IF NOT EXISTS platform.session_events (
      event_id         BIGINT PRIMARY KEY,
      session_id       UUID,
      event_type       TEXT NOT NULL,
      skill_id         UUID,
      is_correct       BOOLEAN,
      duration_seconds INTEGER,
      occurred_at      TIMESTAMPTZ NOT NULL,
      received_at      TIMESTAMPTZ NOT NULL);
    CREATE INDEX IF NOT EXISTS session_events_session ON platform.session_events (session_id);
    CREATE INDEX IF NOT EXISTS session_events_occurred_at ON platform.session_events (occurred_at);

    CREATE TABLE IF NOT EXISTS platform.homework_submissions (
      submission_id UUID PRIMARY KEY,
      tenant_id     UUID,
      learner_id    UUID,
      subject_id    TEXT,
      teacher_id    UUID,
      assigned_at   TIMESTAMPTZ,
      due_at        TIMESTAMPTZ,
      submitted_at  TIMESTAMPTZ NOT NULL,
      score         NUMERIC(7,2),
      max_score     NUMERIC(7,2),
      status        TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS homework_submitted_at ON platform.homework_submissions (submitted_at);

    CREATE TABLE IF NOT EXISTS platform.skill_mastery_daily (
      snapshot_id    BIGINT PRIMARY KEY,
      learner_id     UUID,
      skill_id       UUID,
      snapshot_date  DATE NOT NULL,
      mastery_level  NUMERIC(7,4),
      practice_count INTEGER,
      computed_at    TIMESTAMPTZ NOT NULL,
      UNIQUE (snapshot_date, learner_id, skill_id));

    CREATE TABLE IF NOT EXISTS platform.recommendation_events (
      event_id          BIGINT PRIMARY KEY,
      recommendation_id UUID NOT NULL,
      tenant_id         UUID,
      learner_id        UUID,
      skill_id          UUID,
      event_type        TEXT NOT NULL,
      model_version     TEXT,
      confidence        NUMERIC(7,4),
      occurred_at       TIMESTAMPTZ NOT NULL);
    CREATE INDEX IF NOT EXISTS recommendation_events_occurred_at ON platform.recommendation_events (occurred_at);

    CREATE TABLE IF NOT EXISTS oltp_sim.pending_session_events (LIKE platform.session_events);`);
}

/** Empties the source (the generator rewrites it from scratch, so seeding is idempotent). */
export async function truncateOltp(db: pg.Pool | pg.PoolClient): Promise<void> {
  await db.query(`TRUNCATE ${OLTP_TABLES.map((t) => `platform.${t}`).join(', ')}, oltp_sim.pending_session_events`);
}
