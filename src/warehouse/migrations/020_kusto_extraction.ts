// Staging tables the Kusto extracts COPY into, and the bookkeeping that makes a windowed extract
// resumable: one plan per (run, source) and one row per committed window, written in the same
// transaction as the window's rows.
//
// Time-windowed sources are replaced by time range (the column their query filters on), so a
// re-extracted window deletes exactly what it reloads. Snapshot sources (emails, signups) are read in
// hash partitions and tagged with the run that loaded them; a finished run drops older snapshots.
export const sql = `
CREATE TABLE IF NOT EXISTS staging.kusto_ace_exam_results (
  exam_id           TEXT,
  email             TEXT,
  dotcomid          BIGINT,
  exam_code         TEXT,
  exam_name         TEXT,
  exam_date         TIMESTAMPTZ NOT NULL,
  correct_answers   BIGINT,
  incorrect_answers BIGINT,
  passed            BOOLEAN
);
CREATE INDEX IF NOT EXISTS kusto_ace_exam_results_date ON staging.kusto_ace_exam_results (exam_date);

CREATE TABLE IF NOT EXISTS staging.kusto_pearson_exam_results (
  registration_id TEXT,
  candidate_email TEXT,
  exam_code       TEXT,
  exam_title      TEXT,
  exam_date       TIMESTAMPTZ NOT NULL,
  score           DOUBLE PRECISION,
  passing_score   DOUBLE PRECISION,
  result          TEXT
);
CREATE INDEX IF NOT EXISTS kusto_pearson_exam_results_date ON staging.kusto_pearson_exam_results (exam_date);

CREATE TABLE IF NOT EXISTS staging.kusto_user_emails (
  run_key       TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  user_id       BIGINT,
  email         TEXT,
  is_primary    BOOLEAN,
  verified      BOOLEAN,
  updated_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS kusto_user_emails_run ON staging.kusto_user_emails (run_key, partition_key);

CREATE TABLE IF NOT EXISTS staging.kusto_user_signups (
  run_key       TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  signup_at     TIMESTAMPTZ,
  actor_id      BIGINT,
  email         TEXT
);
CREATE INDEX IF NOT EXISTS kusto_user_signups_run ON staging.kusto_user_signups (run_key, partition_key);

CREATE TABLE IF NOT EXISTS staging.kusto_product_usage (
  day      TIMESTAMPTZ NOT NULL,
  user_id  BIGINT,
  product  TEXT,
  events   BIGINT
);
CREATE INDEX IF NOT EXISTS kusto_product_usage_day ON staging.kusto_product_usage (day);

CREATE TABLE IF NOT EXISTS staging.kusto_page_views (
  first_view_at TIMESTAMPTZ NOT NULL,
  last_view_at  TIMESTAMPTZ,
  actor_id      BIGINT,
  site          TEXT,
  views         BIGINT
);
CREATE INDEX IF NOT EXISTS kusto_page_views_first ON staging.kusto_page_views (first_view_at);

CREATE TABLE IF NOT EXISTS etl_kusto_runs (
  run_key      TEXT NOT NULL,
  source       TEXT NOT NULL,
  job_name     TEXT NOT NULL,
  target_date  DATE,
  plan         JSONB NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at  TIMESTAMPTZ,
  PRIMARY KEY (run_key, source)
);

CREATE TABLE IF NOT EXISTS etl_kusto_windows (
  run_key         TEXT NOT NULL,
  source          TEXT NOT NULL,
  window_key      TEXT NOT NULL,
  window_start    TIMESTAMPTZ,
  window_end      TIMESTAMPTZ,
  partition_no    INTEGER,
  partition_count INTEGER,
  outcome         TEXT NOT NULL CHECK (outcome IN ('loaded', 'split')),
  rows_read       INTEGER NOT NULL DEFAULT 0,
  rows_loaded     INTEGER NOT NULL DEFAULT 0,
  rows_rejected   INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER,
  committed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (run_key, source, window_key)
);
CREATE INDEX IF NOT EXISTS etl_kusto_windows_committed ON etl_kusto_windows (committed_at);
`;
