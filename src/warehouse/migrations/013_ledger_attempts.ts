// Exactly-once under lost completions (issue 10): each ledger row names the workflow run and the
// worker process of its attempt, and a SUCCESS row keeps the NodeResult it returned, so a retry
// of the same run's node that finds its own committed SUCCESS returns it instead of redoing the
// work, and a RUNNING row left behind can say whether its worker is gone.
export const sql = `
ALTER TABLE etl_job_runs ADD COLUMN IF NOT EXISTS workflow_run_id TEXT;
ALTER TABLE etl_job_runs ADD COLUMN IF NOT EXISTS worker TEXT;
ALTER TABLE etl_job_runs ADD COLUMN IF NOT EXISTS result JSONB;
CREATE INDEX IF NOT EXISTS etl_job_runs_run_success ON etl_job_runs (workflow_id, workflow_run_id, job_name)
  WHERE status = 'SUCCESS';
`;
