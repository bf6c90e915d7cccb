// The SQLite change-log position each app-db table's last sync covered (APP_DB_CAPTURE=cdc): stored
// in the transaction that records the sync, so the log is trimmed only up to what BigQuery has.
export const sql = `
ALTER TABLE bq_sync_tracking ADD COLUMN IF NOT EXISTS last_change_seq BIGINT;
`;
