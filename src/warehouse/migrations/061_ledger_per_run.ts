// The ledger read per workflow run, not per workflow id: a workflow id is reused (a forced rerun
// of the same pipeline and date, the app-db admin triggers' fixed ids, a schedule's catch-up), and
// grouping by it merged separate runs into one and hid the earlier runs' final attempts. Every
// reader now keys by (workflow_id, workflow_run_id); this index serves those reads.
export const sql = `
CREATE INDEX IF NOT EXISTS etl_job_runs_per_run
  ON etl_job_runs (workflow_id, workflow_run_id, job_name, target_date, started_at DESC);
`;
