// Row-count alerts: a job whose rows processed fall by more than LEARNSYNC_ROWS_DROP_ALERT
// against its 7-day median gets a message here (set by runLedgeredJob), shown by `status`.
export const sql = `
ALTER TABLE etl_job_runs ADD COLUMN IF NOT EXISTS alert TEXT;
CREATE INDEX IF NOT EXISTS etl_job_runs_alerts ON etl_job_runs (started_at DESC) WHERE alert IS NOT NULL;
`;
