// Change data capture, second source kind (issue 18): an app database on Postgres. Its capture
// workflow writes, per committed source transaction, the keys it changed into app_db_change_log in
// the same warehouse transaction as the slot position; the app-db incremental then MERGEs those
// keys' current rows into BigQuery and trims the log only up to its committed position (as the
// SQLite change log does). op: I/U/D a key, T a truncate and F a fresh slot — both mean "this table
// needs a full sync", since changes before them cannot be replayed key by key.
// And for every source: the slot's wal_status and safe_wal_size when the lag was measured, so status
// and an alert can say when retained WAL nears max_slot_wal_keep_size.
export const sql = `
ALTER TABLE cdc_slot_state ADD COLUMN IF NOT EXISTS wal_status TEXT;
ALTER TABLE cdc_slot_state ADD COLUMN IF NOT EXISTS safe_wal_bytes BIGINT;
CREATE TABLE IF NOT EXISTS app_db_change_log (
  seq        BIGSERIAL PRIMARY KEY,
  source     TEXT NOT NULL,
  table_name TEXT NOT NULL,
  op         CHAR(1) NOT NULL CHECK (op IN ('I', 'U', 'D', 'T', 'F')),
  key        TEXT,
  lsn        PG_LSN NOT NULL,
  commit_time TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS app_db_change_log_table_seq ON app_db_change_log (source, table_name, seq);
`;
