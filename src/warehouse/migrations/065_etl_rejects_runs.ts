// Rejects of a run (issue 17): etl_rejects rows carry the workflow id of the job transaction that
// wrote them — filled by the column's default from a transaction-local setting the ledgered job
// runners set — so GET /api/runs/:workflowId/rejects finds a run's rejects whichever family wrote
// them, without every family passing the id along. An index serves that lookup and the app-db
// family's per-table replacement of its rejects.
export const sql = `
ALTER TABLE etl_rejects ADD COLUMN IF NOT EXISTS workflow_id TEXT
  DEFAULT NULLIF(current_setting('learnsync.workflow_id', true), '');
CREATE INDEX IF NOT EXISTS etl_rejects_workflow ON etl_rejects (workflow_id, job_name) WHERE workflow_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS etl_rejects_app_db_table ON etl_rejects ((raw->>'app_db_table'))
  WHERE raw ? 'app_db_table';
`;
