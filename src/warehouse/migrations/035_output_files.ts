// Every output file a job writes (name, rows, bytes, when, by which job and run date), so that
// sync_status.json and `learnsync status` can list them whichever family wrote them.
export const sql = `
CREATE TABLE IF NOT EXISTS etl_output_files (
  file TEXT PRIMARY KEY, pipeline TEXT, job_name TEXT NOT NULL, target_date DATE,
  rows BIGINT NOT NULL, bytes BIGINT NOT NULL, mode TEXT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT now());
`;
