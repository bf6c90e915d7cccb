// Change data capture runtime (issue 18), whatever a source's changes become: one Postgres source
// per CaptureSource (publication, logical slot, a position in cdc_slot_state), started once (a fresh
// slot comes with the source's initial copy, read inside the snapshot the slot exported and stored
// with the slot's start position in one warehouse transaction), then consumed for bounded slices:
// each batch is applied by the family that owns the source inside ONE warehouse transaction that
// also moves the stored position, and Postgres is acknowledged only after that commit. A restart
// skips exactly the transactions at or below the stored position. The families say what a batch
// means (warehouse: SCD2 versions; app-db: keys for the next BigQuery MERGE); this file does not.
import type pg from 'pg';
import {
  assertLogicalWal,
  consumeChanges,
  createSlotWithSnapshot,
  dropSlot,
  ensurePublication,
  lsnToBigInt,
  slotInfo,
  type CommittedTransaction,
  type ConsumeSummary,
  type SlotInfo,
} from '../../connectors/postgres-cdc/index.js';
import { withTransaction, type Pool } from '../../connectors/postgres.js';
import { ConfigError } from '../../errors.js';

/** What a family's apply counted in one batch; the runtime adds position, transactions and changes. */
export interface FamilyCounts {
  opened: number;
  closed: number;
  rejected: number;
}

export interface CaptureSource {
  /** Name of the source in cdc_slot_state (and of its workflow, cdc-<name>). */
  name: string;
  /** The source's connection string (replication connections are opened from it). */
  url: string;
  publication: string;
  slot: string;
  /** schema.table of every table the publication must carry. */
  tables: readonly string[];
  /** The variable that turns capture on for this source, named in messages. */
  setting: string;
  /** A fresh slot: copy what the target needs, reading the source inside `snapshotName`. */
  initialCopy(tx: pg.PoolClient, snapshotName: string): Promise<Record<string, number>>;
  /** Applies transactions after the stored position, inside `tx` (the runtime moves the position). */
  apply(tx: pg.PoolClient, fresh: readonly CommittedTransaction[]): Promise<FamilyCounts>;
}

export interface StartResult {
  created: boolean;
  consistentPoint?: string;
  copied?: Record<string, number>;
}

/** Idempotent: creates what is missing; a fresh slot comes with a consistent initial copy. */
export async function startCapture(warehouse: Pool, sourceDb: Pool, src: CaptureSource): Promise<StartResult> {
  await assertLogicalWal(sourceDb, src.setting);
  await ensurePublication(sourceDb, src.publication, src.tables);
  const slot = await slotInfo(sourceDb, src.slot);
  const stored = await warehouse.query('SELECT slot_name FROM cdc_slot_state WHERE source = $1', [src.name]);
  if (slot.exists) {
    if (stored.rowCount) return { created: false };
    throw new ConfigError(
      `replication slot ${src.slot} exists but the warehouse has no position for source ${src.name}: ` +
        `drop it (learnsync cdc drop-slot ${src.name}) and start again, which copies the tables afresh`,
    );
  }
  // No slot (new, or dropped: the changes since are lost to it) → a fresh copy inside its snapshot.
  const exported = await createSlotWithSnapshot(src.url, src.slot);
  try {
    let copied: Record<string, number> = {};
    await withTransaction(warehouse, async (tx) => {
      copied = await src.initialCopy(tx, exported.snapshotName);
      await tx.query(
        `INSERT INTO cdc_slot_state (source, slot_name, publication, applied_lsn, initial_copy_at)
         VALUES ($1, $2, $3, $4::pg_lsn, now())
         ON CONFLICT (source) DO UPDATE SET slot_name = $2, publication = $3, applied_lsn = $4::pg_lsn,
           initial_copy_at = now(), applied_commit_time = NULL, updated_at = now()`,
        [src.name, src.slot, src.publication, exported.consistentPoint],
      );
    });
    return { created: true, consistentPoint: exported.consistentPoint, copied };
  } catch (err) {
    await exported.release();
    // Without its copy the slot would stream changes onto a target that never saw the rows before them.
    await dropSlot(sourceDb, src.slot).catch(() => {});
    throw err;
  } finally {
    await exported.release();
  }
}

export interface BatchCounts extends FamilyCounts {
  transactions: number;
  /** Transactions at or below the stored position (a resend after a crash before the acknowledgement). */
  skipped: number;
  changes: number;
  appliedLsn: string | null;
}

/**
 * Applies `batch` inside `tx` with the stored position: transactions at or below it are skipped,
 * the rest go to `apply`, and the position, its commit time and the counters move in the same
 * transaction (the caller commits, then acknowledges the slot).
 */
export async function applyWithPosition(
  tx: pg.PoolClient,
  source: string,
  batch: readonly CommittedTransaction[],
  apply: (fresh: readonly CommittedTransaction[]) => Promise<FamilyCounts>,
): Promise<BatchCounts> {
  const state = await tx.query<{ lsn: string }>(
    'SELECT applied_lsn::text AS lsn FROM cdc_slot_state WHERE source = $1 FOR UPDATE',
    [source],
  );
  if (!state.rowCount) {
    throw new ConfigError(`CDC source ${source} has no stored position: start it first (learnsync cdc start)`);
  }
  const applied = lsnToBigInt(state.rows[0]!.lsn);
  const fresh = batch.filter((t) => lsnToBigInt(t.endLsn) > applied);
  const counts: BatchCounts = {
    transactions: fresh.length,
    skipped: batch.length - fresh.length,
    changes: 0,
    opened: 0,
    closed: 0,
    rejected: 0,
    appliedLsn: null,
  };
  if (!fresh.length) return counts;
  Object.assign(counts, await apply(fresh));
  const last = fresh[fresh.length - 1]!;
  counts.changes = fresh.reduce((n, t) => n + t.changes.length, 0);
  counts.appliedLsn = last.endLsn;
  await tx.query(
    `UPDATE cdc_slot_state SET applied_lsn = $2::pg_lsn, applied_commit_time = $3, updated_at = now(),
            changes_applied = changes_applied + $4, batches_applied = batches_applied + 1,
            lag_seconds = extract(epoch FROM clock_timestamp() - $3::timestamptz)
      WHERE source = $1`,
    [source, last.endLsn, last.commitTime, counts.changes],
  );
  return counts;
}

export interface RunOptions {
  durationMs: number;
  maxBatchChanges?: number;
  maxBatchWaitMs?: number;
  signal?: AbortSignal;
  /** After each committed batch (heartbeat the position here). */
  onBatch?: (counts: BatchCounts) => void;
}

export interface RunSummary extends ConsumeSummary, FamilyCounts {}

export async function runCapture(warehouse: Pool, src: CaptureSource, opts: RunOptions): Promise<RunSummary> {
  const stored = await warehouse.query<{ lsn: string }>(
    'SELECT applied_lsn::text AS lsn FROM cdc_slot_state WHERE source = $1',
    [src.name],
  );
  if (!stored.rowCount) throw new ConfigError(`CDC source ${src.name} is not started: run learnsync cdc start`);
  const totals: FamilyCounts = { opened: 0, closed: 0, rejected: 0 };
  const summary = await consumeChanges(
    {
      connection: { connectionString: src.url, application_name: `learnsync-cdc-${src.name}` },
      slot: src.slot,
      publication: src.publication,
      durationMs: opts.durationMs,
      maxBatchChanges: opts.maxBatchChanges,
      maxBatchWaitMs: opts.maxBatchWaitMs,
      appliedLsn: stored.rows[0]!.lsn,
      signal: opts.signal,
    },
    async (batch) => {
      const counts = await withTransaction(warehouse, (tx) =>
        applyWithPosition(tx, src.name, batch, (fresh) => src.apply(tx, fresh)),
      );
      totals.opened += counts.opened;
      totals.closed += counts.closed;
      totals.rejected += counts.rejected;
      opts.onBatch?.(counts);
    },
  );
  return { ...summary, ...totals };
}

export interface CaptureLag extends SlotInfo {
  source: string;
  appliedLsn: string | null;
  appliedCommitTime: string | null;
  /** Server-measured delay of the consumer's flush confirmations while it is connected. */
  lagSeconds: number | null;
}

export async function captureLag(
  warehouse: Pool,
  sourceDb: Pool | pg.PoolClient,
  src: Pick<CaptureSource, 'name' | 'slot'>,
): Promise<CaptureLag> {
  const slot = await slotInfo(sourceDb, src.slot);
  const stored = await warehouse.query<{ lsn: string; t: Date | null }>(
    'SELECT applied_lsn::text AS lsn, applied_commit_time AS t FROM cdc_slot_state WHERE source = $1',
    [src.name],
  );
  const lag = await sourceDb.query<{ s: number | null }>(
    `SELECT extract(epoch FROM coalesce(r.flush_lag, interval '0'))::float8 AS s
       FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = $1`,
    [src.slot],
  );
  return {
    source: src.name,
    ...slot,
    appliedLsn: stored.rows[0]?.lsn ?? null,
    appliedCommitTime: stored.rows[0]?.t?.toISOString() ?? null,
    lagSeconds: lag.rows[0]?.s ?? null,
  };
}

/**
 * Measures the slot's WAL lag and stores it (status reads only the warehouse); also returns the
 * stored lag of the last applied change (its source commit to its apply), which the batches keep.
 */
export async function recordLag(
  warehouse: Pool,
  sourceDb: Pool,
  src: Pick<CaptureSource, 'name' | 'slot'>,
  alertSeconds: number,
): Promise<CaptureLag & { appliedLagSeconds: number | null }> {
  const lag = await captureLag(warehouse, sourceDb, src);
  const stored = await warehouse.query<{ s: number | null }>(
    `UPDATE cdc_slot_state SET lag_bytes = $2, lag_measured_at = now(), lag_alert_seconds = $3,
            wal_status = $4, safe_wal_bytes = $5 WHERE source = $1 RETURNING lag_seconds AS s`,
    [src.name, lag.lagBytes, alertSeconds, lag.walStatus, lag.safeWalBytes],
  );
  return { ...lag, appliedLagSeconds: stored.rows[0]?.s ?? null };
}

/** Whether `source` has been started (a stored position): its slot exists and its consumer owns it. */
export async function captureStarted(warehouse: Pool, source: string): Promise<boolean> {
  const r = await warehouse.query('SELECT 1 FROM cdc_slot_state WHERE source = $1', [source]);
  return (r.rowCount ?? 0) > 0;
}

/** Drops the slot (the source keeps no WAL for it any more) and forgets its position. */
export async function dropCapture(
  warehouse: Pool,
  sourceDb: Pool,
  src: Pick<CaptureSource, 'name' | 'slot'>,
): Promise<boolean> {
  const dropped = await dropSlot(sourceDb, src.slot);
  await warehouse.query('DELETE FROM cdc_slot_state WHERE source = $1', [src.name]);
  return dropped;
}
