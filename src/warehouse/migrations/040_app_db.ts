// App database → BigQuery (issue 9): one row per synced table and destination dataset. Kept in
// the warehouse, not in the application database, and written in the same transaction as the
// ledger's SUCCESS row, after BigQuery has the rows the cursor covers.
export const sql = `
CREATE TABLE IF NOT EXISTS bq_sync_tracking (
  dataset             TEXT NOT NULL,            -- BigQuery project.dataset the table goes to
  table_name          TEXT NOT NULL,
  mode                TEXT NOT NULL CHECK (mode IN ('append', 'merge')),
  last_synced_row_id  BIGINT,                   -- append tables: highest id BigQuery has
  last_cursor         TEXT,                     -- merge tables: highest updated_at synced (as the source wrote it)
  last_cursor_rows    BIGINT,                   -- rows the source had at exactly last_cursor when it was synced
  believed_schema     JSONB,                    -- [{name, type}] learnsync believes BigQuery has, verified each run
  last_sync_at        TIMESTAMPTZ,
  last_sync_mode      TEXT,                     -- incremental | full
  last_full_sync_at   TIMESTAMPTZ,
  last_rows_read      BIGINT NOT NULL DEFAULT 0,
  last_rows_appended  BIGINT NOT NULL DEFAULT 0,
  last_rows_merged    BIGINT NOT NULL DEFAULT 0,
  last_rows_deleted   BIGINT NOT NULL DEFAULT 0,
  last_rows_rejected  BIGINT NOT NULL DEFAULT 0,
  last_reject_reason  TEXT,
  last_columns_added  TEXT,
  last_error          TEXT,                     -- cleared by the next successful sync
  last_error_at       TIMESTAMPTZ,
  last_workflow_id    TEXT,
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset, table_name)
);
`;
