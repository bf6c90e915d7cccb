// What BigQuery held after each table's last sync (issue 17): a target table that was dropped and
// recreated empty (a fresh emulator, a dataset deleted by hand) or that lost rows is noticed on the
// next run — fewer rows than recorded — and its cursor reset, with the reason kept for `status`.
export const sql = `
ALTER TABLE bq_sync_tracking ADD COLUMN IF NOT EXISTS target_rows BIGINT;
ALTER TABLE bq_sync_tracking ADD COLUMN IF NOT EXISTS last_reset TEXT;
ALTER TABLE bq_sync_tracking ADD COLUMN IF NOT EXISTS last_reset_at TIMESTAMPTZ;
`;
