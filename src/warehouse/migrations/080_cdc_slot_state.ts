// Change data capture (issue 18): per source, the replication slot's position the warehouse has
// applied. It is written in the same transaction as the dimension versions of a batch, and Postgres
// is acknowledged only after that commit, so a restart skips exactly the changes at or below it.
export const sql = `
CREATE TABLE IF NOT EXISTS cdc_slot_state (
  source              TEXT PRIMARY KEY,
  slot_name           TEXT NOT NULL,
  publication         TEXT NOT NULL,
  applied_lsn         PG_LSN NOT NULL,
  applied_commit_time TIMESTAMPTZ,
  changes_applied     BIGINT NOT NULL DEFAULT 0,
  batches_applied     BIGINT NOT NULL DEFAULT 0,
  initial_copy_at     TIMESTAMPTZ,
  -- Lag, for status and metrics: seconds from the last applied change's source commit to its apply,
  -- WAL bytes the slot holds back (measured by the consumer), and the alert threshold it ran with.
  lag_seconds         DOUBLE PRECISION,
  lag_bytes           BIGINT,
  lag_measured_at     TIMESTAMPTZ,
  lag_alert_seconds   INTEGER,
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;
