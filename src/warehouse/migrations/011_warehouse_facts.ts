// Facts of the warehouse star schema, range-partitioned by date_key (YYYYMMDD) into monthly
// partitions that the fact jobs create on demand. Each job owns one date_key at a time: it
// deletes and reinserts that date in one transaction. Rows are keyed by their natural key, so a
// rerun reproduces the table byte for byte; dimension keys point at the version valid at event
// time. No foreign keys: the keys come from the as-of join itself, and a million FK checks a day
// buy nothing the join does not already guarantee.
export const sql = `
CREATE TABLE IF NOT EXISTS dw.fact_sessions (
  date_key             INTEGER NOT NULL,
  session_id           UUID NOT NULL,
  tenant_key           INTEGER NOT NULL,
  learner_key          INTEGER NOT NULL,
  subject_key          INTEGER,
  device               TEXT,
  started_at           TIMESTAMPTZ NOT NULL,
  ended_at             TIMESTAMPTZ,
  duration_seconds     INTEGER,
  event_count          INTEGER NOT NULL,
  activities_completed INTEGER NOT NULL,
  responses            INTEGER NOT NULL,
  correct_responses    INTEGER NOT NULL,
  focus_lost_count     INTEGER NOT NULL,
  focus_lost_seconds   INTEGER NOT NULL,
  late_event_count     INTEGER NOT NULL,
  PRIMARY KEY (date_key, session_id)
) PARTITION BY RANGE (date_key);

CREATE TABLE IF NOT EXISTS dw.fact_focus_events (
  date_key         INTEGER NOT NULL,
  event_id         BIGINT NOT NULL,
  session_id       UUID NOT NULL,
  tenant_key       INTEGER NOT NULL,
  learner_key      INTEGER NOT NULL,
  event_type       TEXT NOT NULL,
  focus_seconds    INTEGER,
  occurred_at      TIMESTAMPTZ NOT NULL,
  received_at      TIMESTAMPTZ NOT NULL,
  is_late_arrival  BOOLEAN NOT NULL,
  PRIMARY KEY (date_key, event_id)
) PARTITION BY RANGE (date_key);

CREATE TABLE IF NOT EXISTS dw.fact_homework_events (
  date_key         INTEGER NOT NULL,
  submission_id    UUID NOT NULL,
  tenant_key       INTEGER NOT NULL,
  learner_key      INTEGER NOT NULL,
  subject_key      INTEGER,
  teacher_user_key INTEGER,
  assigned_at      TIMESTAMPTZ,
  due_at           TIMESTAMPTZ,
  submitted_at     TIMESTAMPTZ NOT NULL,
  score            NUMERIC(7,2),
  max_score        NUMERIC(7,2),
  score_pct        NUMERIC(5,2),
  is_late          BOOLEAN NOT NULL,
  hours_to_submit  NUMERIC(8,2),
  PRIMARY KEY (date_key, submission_id)
) PARTITION BY RANGE (date_key);

CREATE TABLE IF NOT EXISTS dw.fact_learning_progress (
  date_key          INTEGER NOT NULL,
  learner_id        UUID NOT NULL,
  skill_id          UUID NOT NULL,
  tenant_key        INTEGER NOT NULL,
  learner_key       INTEGER NOT NULL,
  skill_key         INTEGER NOT NULL,
  subject_key       INTEGER,
  mastery_level     NUMERIC(5,4) NOT NULL,
  mastery_change_1d NUMERIC(6,4),
  practice_count    INTEGER NOT NULL,
  is_mastered       BOOLEAN NOT NULL,
  PRIMARY KEY (date_key, learner_id, skill_id)
) PARTITION BY RANGE (date_key);

CREATE TABLE IF NOT EXISTS dw.fact_recommendation_events (
  date_key          INTEGER NOT NULL,
  event_id          BIGINT NOT NULL,
  recommendation_id UUID NOT NULL,
  tenant_key        INTEGER NOT NULL,
  learner_key       INTEGER NOT NULL,
  skill_key         INTEGER,
  subject_key       INTEGER,
  event_type        TEXT NOT NULL,
  model_version     TEXT,
  confidence        NUMERIC(5,4) NOT NULL,
  occurred_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (date_key, event_id)
) PARTITION BY RANGE (date_key);
`;
