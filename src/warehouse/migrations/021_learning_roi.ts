// The learning ROI warehouse: identities (email → dotcom_id with the deciding source), the five
// datasets the dashboard reads, the dashboard aggregates, and the per-dataset / per-source sync
// state behind sync_status.json. Everything here is rebuilt by the pipeline's SQL stages.
export const sql = `
CREATE SCHEMA IF NOT EXISTS learning_roi;

-- Trim (spaces, tabs, line breaks, no-break spaces) and lower-case; empty → NULL.
CREATE OR REPLACE FUNCTION learning_roi.normalize_email(raw TEXT) RETURNS TEXT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT nullif(lower(btrim(raw, ' ' || chr(9) || chr(10) || chr(13) || chr(160))), '') $fn$;

CREATE OR REPLACE FUNCTION learning_roi.is_valid_email(normalized TEXT) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT coalesce(normalized ~ '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$', false) $fn$;

-- Microsoft fiscal years start on 1 July: 2025-07-01 is the first day of FY26.
CREATE OR REPLACE FUNCTION learning_roi.fiscal_year(ts TIMESTAMPTZ) RETURNS TEXT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT 'FY' || lpad(((extract(year FROM ts AT TIME ZONE 'UTC')::int
                 + CASE WHEN extract(month FROM ts AT TIME ZONE 'UTC') >= 7 THEN 1 ELSE 0 END) % 100)::text, 2, '0') $fn$;

CREATE TABLE IF NOT EXISTS learning_roi.learner_identities (
  email           TEXT PRIMARY KEY,
  dotcom_id       BIGINT NOT NULL,
  resolved_by     TEXT NOT NULL CHECK (resolved_by IN ('verified_email', 'signup', 'exam_record', 'unresolved')),
  candidate_count INTEGER NOT NULL,
  has_conflict    BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS learner_identities_dotcom ON learning_roi.learner_identities (dotcom_id);

CREATE TABLE IF NOT EXISTS learning_roi.identity_conflicts (
  email            TEXT PRIMARY KEY,
  chosen_dotcom_id BIGINT NOT NULL,
  chosen_source    TEXT NOT NULL,
  -- every distinct (dotcom_id, source) that claimed the email, best first
  candidates       JSONB NOT NULL
);

CREATE TABLE IF NOT EXISTS learning_roi.individual_exams (
  exam_source       TEXT NOT NULL CHECK (exam_source IN ('ace', 'pearson')),
  attempt_id        TEXT NOT NULL,
  email             TEXT NOT NULL,
  dotcom_id         BIGINT NOT NULL,
  exam_code         TEXT NOT NULL,
  exam_name         TEXT,
  exam_date         TIMESTAMPTZ NOT NULL,
  fiscal_year       TEXT NOT NULL,
  passed            BOOLEAN NOT NULL,
  score             NUMERIC(5,1),
  score_method      TEXT CHECK (score_method IN ('computed', 'reported')),
  correct_answers   INTEGER,
  incorrect_answers INTEGER,
  PRIMARY KEY (exam_source, attempt_id)
);
CREATE INDEX IF NOT EXISTS individual_exams_email ON learning_roi.individual_exams (email);

CREATE TABLE IF NOT EXISTS learning_roi.certified_users (
  email                       TEXT PRIMARY KEY,
  dotcom_id                   BIGINT NOT NULL,
  resolved_by                 TEXT NOT NULL,
  is_certified                BOOLEAN NOT NULL,
  certification_count         INTEGER NOT NULL,
  certifications              TEXT NOT NULL,
  exams_taken                 INTEGER NOT NULL,
  exams_passed                INTEGER NOT NULL,
  first_exam_date             DATE NOT NULL,
  last_exam_date              DATE NOT NULL,
  first_certified_date        DATE,
  first_certified_fiscal_year TEXT
);

CREATE TABLE IF NOT EXISTS learning_roi.product_usage (
  dotcom_id         BIGINT PRIMARY KEY,
  is_certified      BOOLEAN NOT NULL,
  copilot_events    BIGINT NOT NULL,
  copilot_days      INTEGER NOT NULL,
  actions_events    BIGINT NOT NULL,
  actions_days      INTEGER NOT NULL,
  security_events   BIGINT NOT NULL,
  security_days     INTEGER NOT NULL,
  total_events      BIGINT NOT NULL,
  active_days       INTEGER NOT NULL,
  first_active_date DATE NOT NULL,
  last_active_date  DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS learning_roi.learning_activity (
  dotcom_id       BIGINT PRIMARY KEY,
  learn_views     BIGINT NOT NULL,
  skills_views    BIGINT NOT NULL,
  docs_views      BIGINT NOT NULL,
  total_views     BIGINT NOT NULL,
  first_view_date DATE NOT NULL,
  last_view_date  DATE NOT NULL
);

-- The complete learner view: certified_users plus the learner's usage and learning activity.
CREATE TABLE IF NOT EXISTS learning_roi.unified_users (
  LIKE learning_roi.certified_users,
  copilot_events  BIGINT NOT NULL,
  copilot_days    INTEGER NOT NULL,
  actions_events  BIGINT NOT NULL,
  security_events BIGINT NOT NULL,
  total_events    BIGINT NOT NULL,
  active_days     INTEGER NOT NULL,
  learn_views     BIGINT NOT NULL,
  skills_views    BIGINT NOT NULL,
  docs_views      BIGINT NOT NULL,
  PRIMARY KEY (email)
);

CREATE TABLE IF NOT EXISTS learning_roi.agg_pass_rate_by_exam_month (
  exam_code   TEXT NOT NULL,
  month       DATE NOT NULL,
  fiscal_year TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  passes      INTEGER NOT NULL,
  pass_rate   NUMERIC(5,4) NOT NULL,
  avg_score   NUMERIC(5,1),
  PRIMARY KEY (exam_code, month)
);

CREATE TABLE IF NOT EXISTS learning_roi.agg_certified_by_fiscal_year (
  fiscal_year                   TEXT PRIMARY KEY,
  learners_tested               INTEGER NOT NULL,
  exams_taken                   INTEGER NOT NULL,
  exams_passed                  INTEGER NOT NULL,
  pass_rate                     NUMERIC(5,4) NOT NULL,
  newly_certified_learners      INTEGER NOT NULL,
  cumulative_certified_learners INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS learning_roi.agg_usage_by_certification (
  segment             TEXT PRIMARY KEY CHECK (segment IN ('certified', 'not_yet_certified')),
  accounts            INTEGER NOT NULL,
  accounts_with_usage INTEGER NOT NULL,
  share_with_usage    NUMERIC(5,4) NOT NULL,
  avg_copilot_events  NUMERIC(12,2) NOT NULL,
  avg_copilot_days    NUMERIC(12,2) NOT NULL,
  avg_actions_events  NUMERIC(12,2) NOT NULL,
  avg_security_events NUMERIC(12,2) NOT NULL,
  avg_total_events    NUMERIC(12,2) NOT NULL
);

CREATE TABLE IF NOT EXISTS learning_roi.agg_usage_before_after (
  product            TEXT PRIMARY KEY,
  window_days        INTEGER NOT NULL,
  accounts           INTEGER NOT NULL,
  events_before      BIGINT NOT NULL,
  events_after       BIGINT NOT NULL,
  active_days_before INTEGER NOT NULL,
  active_days_after  INTEGER NOT NULL,
  avg_events_before  NUMERIC(12,2) NOT NULL,
  avg_events_after   NUMERIC(12,2) NOT NULL,
  change_pct         NUMERIC(8,1)
);

CREATE TABLE IF NOT EXISTS learning_roi.dataset_syncs (
  id          BIGSERIAL PRIMARY KEY,
  dataset     TEXT NOT NULL,
  target_date DATE,
  status      TEXT NOT NULL CHECK (status IN ('built', 'success', 'failed')),
  rows        BIGINT NOT NULL DEFAULT 0,
  build_ms    INTEGER,
  export_ms   INTEGER,
  source      TEXT NOT NULL,
  file        TEXT,
  error       TEXT,
  built_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  synced_at   TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS dataset_syncs_dataset ON learning_roi.dataset_syncs (dataset, id DESC);

CREATE TABLE IF NOT EXISTS learning_roi.source_syncs (
  source          TEXT PRIMARY KEY,
  status          TEXT NOT NULL CHECK (status IN ('running', 'success', 'failed')),
  target_date     DATE,
  rows            BIGINT NOT NULL DEFAULT 0,
  rejected        BIGINT NOT NULL DEFAULT 0,
  windows         INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER,
  error           TEXT,
  last_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_success_at TIMESTAMPTZ
);
`;
