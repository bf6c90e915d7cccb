// Results of data-quality gates, one row per gate per check, keyed by the run that checked them.
// Written outside the checking job's transaction so that a failing gate is recorded even though
// its job then fails.
export const sql = `
CREATE TABLE IF NOT EXISTS etl_quality_gates (
  id          BIGSERIAL PRIMARY KEY,
  pipeline    TEXT NOT NULL,
  job_name    TEXT NOT NULL,
  target_date DATE,
  run_id      TEXT NOT NULL,
  gate        TEXT NOT NULL,
  mode        TEXT NOT NULL CHECK (mode IN ('warn', 'fail')),
  status      TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
  observed    DOUBLE PRECISION,
  expected    TEXT NOT NULL,
  note        TEXT NOT NULL,
  details     JSONB,
  checked_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS etl_quality_gates_run ON etl_quality_gates (pipeline, checked_at DESC);
`;
