// Tables of the learning-sample pipeline. The target_date column is each table's partition key:
// a rerun deletes and reinserts exactly its own date.
export const sql = `
CREATE TABLE IF NOT EXISTS staging.sample_exam_results (
  target_date  DATE NOT NULL,
  result_id    BIGINT NOT NULL,
  email        TEXT,
  exam_code    TEXT,
  score        NUMERIC,
  passed       BOOLEAN,
  source_user_id BIGINT,
  taken_at     TIMESTAMPTZ,
  updated_at   TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS sample_exam_results_date ON staging.sample_exam_results (target_date);

CREATE TABLE IF NOT EXISTS staging.sample_user_emails (
  email    TEXT NOT NULL,
  user_id  BIGINT NOT NULL,
  verified BOOLEAN NOT NULL
);

CREATE TABLE IF NOT EXISTS mart.sample_exam_facts (
  target_date  DATE NOT NULL,
  result_id    BIGINT NOT NULL,
  email        TEXT NOT NULL,
  user_id      BIGINT NOT NULL,
  resolved_by  TEXT NOT NULL,
  exam_code    TEXT NOT NULL,
  score        NUMERIC NOT NULL,
  passed       BOOLEAN NOT NULL,
  taken_at     TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (target_date, result_id)
);

CREATE TABLE IF NOT EXISTS mart.sample_daily_exam_stats (
  target_date    DATE NOT NULL,
  exam_code      TEXT NOT NULL,
  attempts       INTEGER NOT NULL,
  passes         INTEGER NOT NULL,
  pass_rate      NUMERIC(5,4) NOT NULL,
  avg_score      NUMERIC(6,2) NOT NULL,
  resolved_users INTEGER NOT NULL,
  PRIMARY KEY (target_date, exam_code)
);

CREATE TABLE IF NOT EXISTS mart.sample_exam_results_live (
  result_id    BIGINT PRIMARY KEY,
  email        TEXT,
  exam_code    TEXT,
  score        NUMERIC,
  passed       BOOLEAN,
  taken_at     TIMESTAMPTZ,
  updated_at   TIMESTAMPTZ NOT NULL
);
`;
