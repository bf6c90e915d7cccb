// The job-run ledger (columns of the seed's etl_job_runs, plus what reconciliation needs),
// the shared rejects table and the schemas every pipeline writes into.
export const sql = `
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS mart;

CREATE TABLE IF NOT EXISTS etl_job_runs (
  id              UUID PRIMARY KEY,
  job_name        VARCHAR(100) NOT NULL,
  pipeline        VARCHAR(100),
  run_date        DATE NOT NULL DEFAULT CURRENT_DATE,
  target_date     DATE,
  status          VARCHAR(20) NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILED', 'SKIPPED')),
  rows_processed  INTEGER NOT NULL DEFAULT 0,
  rows_inserted   INTEGER NOT NULL DEFAULT 0,
  rows_updated    INTEGER NOT NULL DEFAULT 0,
  rows_deleted    INTEGER NOT NULL DEFAULT 0,
  rows_rejected   INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER,
  error_message   TEXT,
  workflow_id     TEXT,
  attempt         INTEGER,
  started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS etl_job_runs_job_target ON etl_job_runs (job_name, target_date, status);
CREATE INDEX IF NOT EXISTS etl_job_runs_started ON etl_job_runs (started_at DESC);

CREATE TABLE IF NOT EXISTS etl_rejects (
  id          BIGSERIAL PRIMARY KEY,
  job_name    VARCHAR(100) NOT NULL,
  target_date DATE,
  reason      TEXT NOT NULL,
  raw         JSONB NOT NULL,
  rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS etl_rejects_job_target ON etl_rejects (job_name, target_date);

CREATE TABLE IF NOT EXISTS etl_cursors (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;
