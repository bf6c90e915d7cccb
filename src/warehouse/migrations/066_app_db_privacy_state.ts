// App-db privacy settings that change after a table was synced (issue 17): which columns left as
// keyed hashes on the last sync, so a column newly listed in APP_DB_SECRET_COLUMNS (or no longer
// listed) is noticed on the next run and its BigQuery values replaced, not left in clear text.
// NULL: synced before this was recorded — the configured secret columns are then re-hashed once.
export const sql = `
ALTER TABLE bq_sync_tracking ADD COLUMN IF NOT EXISTS secret_columns TEXT[];
`;
