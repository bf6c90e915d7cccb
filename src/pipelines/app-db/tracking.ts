// bq_sync_tracking: per table, the cursor BigQuery is known to have, the schema learnsync believes
// BigQuery has, and what the last sync did. Success rows are written inside the job's transaction
// (after BigQuery committed the rows); errors are written on their own, since that transaction is
// rolled back.
import type pg from 'pg';
import { redactSecrets } from '../../secrets.js';
import type { TableMode } from './definition.js';
import type { TargetColumn } from './schema-mapping.js';

type Db = pg.Pool | pg.PoolClient;

export interface TrackingRow {
  dataset: string;
  table_name: string;
  mode: TableMode;
  last_synced_row_id: string | null;
  last_cursor: string | null;
  last_cursor_rows: string | null;
  believed_schema: TargetColumn[] | null;
  last_sync_at: Date | null;
  last_sync_mode: string | null;
  last_full_sync_at: Date | null;
  last_rows_read: string;
  last_rows_appended: string;
  last_rows_merged: string;
  last_rows_deleted: string;
  last_rows_rejected: string;
  last_reject_reason: string | null;
  last_columns_added: string | null;
  last_error: string | null;
  last_error_at: Date | null;
  last_workflow_id: string | null;
  /** Columns that left as keyed hashes on the last sync; null before migration 066. */
  secret_columns: string[] | null;
  /** Rows BigQuery held after the last sync; null before migration 067. */
  target_rows: string | null;
  last_reset: string | null;
  last_reset_at: Date | null;
  /** The SQLite change-log position the last sync covered (APP_DB_CAPTURE=cdc); null before migration 68. */
  last_change_seq: string | null;
}

/** The tracking rows' dataset column: `project.dataset`, so two projects' datasets of one name never share cursors. */
export const trackingDataset = (bq: { projectId: string; datasetId: string }): string =>
  `${bq.projectId}.${bq.datasetId}`;

export async function readTracking(db: Db, dataset: string, table: string): Promise<TrackingRow | undefined> {
  const { rows } = await db.query<TrackingRow>(
    'SELECT * FROM bq_sync_tracking WHERE dataset = $1 AND table_name = $2',
    [dataset, table],
  );
  return rows[0];
}

export async function readAllTracking(db: Db, dataset: string): Promise<TrackingRow[]> {
  const { rows } = await db.query<TrackingRow>(
    'SELECT * FROM bq_sync_tracking WHERE dataset = $1 ORDER BY table_name',
    [dataset],
  );
  return rows;
}

export interface SyncRecord {
  dataset: string;
  table: string;
  mode: TableMode;
  syncMode: 'incremental' | 'full';
  lastRowId: number | null;
  lastCursor: string | null;
  lastCursorRows: number | null;
  schema: TargetColumn[];
  read: number;
  appended: number;
  merged: number;
  deleted: number;
  rejected: number;
  rejectReason: string | null;
  columnsAdded: string[];
  workflowId: string | null;
  secretColumns: string[];
  targetRows: number | null;
  /** Why this sync reset the table's cursor, or null. */
  reset: string | null;
  /** The change-log position covered (cdc), or null (snapshot). */
  lastChangeSeq?: number | null;
}

export async function recordSync(db: Db, r: SyncRecord): Promise<void> {
  await db.query(
    `INSERT INTO bq_sync_tracking (dataset, table_name, mode, last_synced_row_id, last_cursor, believed_schema,
      last_sync_at, last_sync_mode,
        last_full_sync_at, last_rows_read, last_rows_appended, last_rows_merged, last_rows_deleted,
          last_rows_rejected, last_reject_reason,
        last_columns_added, last_error, last_error_at, last_workflow_id, last_cursor_rows, secret_columns,
        target_rows, last_reset, last_reset_at, last_change_seq, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now(), $7, CASE WHEN $7 = 'full' THEN now() END, $8, $9, $10, $11, $12, $13,
       $14, NULL, NULL, $15, $16, $17, $18, $19, CASE WHEN $19::text IS NOT NULL THEN now() END, $20, now())
     ON CONFLICT (dataset, table_name) DO UPDATE SET
        mode = EXCLUDED.mode, last_synced_row_id = EXCLUDED.last_synced_row_id, last_cursor = EXCLUDED.last_cursor,
        believed_schema = EXCLUDED.believed_schema, last_sync_at = now(), last_sync_mode = EXCLUDED.last_sync_mode,
        last_full_sync_at = COALESCE(EXCLUDED.last_full_sync_at, bq_sync_tracking.last_full_sync_at),
        last_rows_read = EXCLUDED.last_rows_read, last_rows_appended = EXCLUDED.last_rows_appended,
          last_rows_merged = EXCLUDED.last_rows_merged,
        last_rows_deleted = EXCLUDED.last_rows_deleted, last_rows_rejected = EXCLUDED.last_rows_rejected,
        last_reject_reason = EXCLUDED.last_reject_reason, last_columns_added = EXCLUDED.last_columns_added,
        last_error = NULL, last_error_at = NULL, last_workflow_id = EXCLUDED.last_workflow_id,
        last_cursor_rows = EXCLUDED.last_cursor_rows, secret_columns = EXCLUDED.secret_columns,
        target_rows = EXCLUDED.target_rows,
        last_reset = COALESCE(EXCLUDED.last_reset, bq_sync_tracking.last_reset),
        last_reset_at = COALESCE(EXCLUDED.last_reset_at, bq_sync_tracking.last_reset_at),
        last_change_seq = EXCLUDED.last_change_seq, updated_at = now()`,
    [
      r.dataset,
      r.table,
      r.mode,
      r.lastRowId,
      r.lastCursor,
      JSON.stringify(r.schema),
      r.syncMode,
      r.read,
      r.appended,
      r.merged,
      r.deleted,
      r.rejected,
      r.rejectReason,
      r.columnsAdded.join(',') || null,
      r.workflowId,
      r.lastCursorRows,
      r.secretColumns,
      r.targetRows,
      r.reset,
      r.lastChangeSeq ?? null,
    ],
  );
}

/** Best effort: the sync has failed already, and that error is the one to report. */
export async function recordError(
  db: Db,
  dataset: string,
  table: string,
  mode: TableMode,
  message: string,
  workflowId: string | null,
): Promise<void> {
  await db
    .query(
      `INSERT INTO bq_sync_tracking (dataset, table_name, mode, last_error, last_error_at, last_workflow_id)
        VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (dataset, table_name) DO UPDATE SET last_error = EXCLUDED.last_error, last_error_at = now(),
         last_workflow_id = EXCLUDED.last_workflow_id, updated_at = now()`,
      // Stored and shown by status and the admin API: through the one masking function like every stored error.
      [dataset, table, mode, redactSecrets(message).slice(0, 4000), workflowId],
    )
    .catch(() => {});
}
