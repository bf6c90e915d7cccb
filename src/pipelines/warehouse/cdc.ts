// Change data capture of the OLTP dimensions (issue 18): start (publication, slot, and the initial
// copy read inside the snapshot the slot exported, stored with the slot's start position in one
// warehouse transaction), consume for a bounded time (each batch applied and its position stored in
// one transaction, Postgres acknowledged after the commit), lag, and drop.
import type pg from 'pg';
import {
  assertLogicalWal,
  consumeChanges,
  createSlotWithSnapshot,
  dropSlot,
  ensurePublication,
  slotInfo,
  type ConsumeSummary,
  type SlotInfo,
} from '../../connectors/postgres-cdc/index.js';
import { withTransaction, type Pool } from '../../connectors/postgres.js';
import { ConfigError } from '../../errors.js';
import { applyCdcBatch, CDC_TABLES, type ApplyCounts, type CdcTable } from './dimensions/cdc-apply.js';
import { syncDimension } from './dimensions/sync.js';

export interface CdcSource {
  /** Name of the source in cdc_slot_state (and of its workflow). */
  name: string;
  /** The OLTP connection string (replication connections are opened from it). */
  oltpUrl: string;
  publication: string;
  slot: string;
  tables?: readonly CdcTable[];
}

export interface StartResult {
  created: boolean;
  consistentPoint?: string;
  copied?: Record<string, number>;
}

/** Idempotent: creates what is missing; a fresh slot comes with a consistent initial copy. */
export async function startCdc(warehouse: Pool, oltp: Pool, src: CdcSource): Promise<StartResult> {
  const tables = src.tables ?? CDC_TABLES;
  await assertLogicalWal(oltp);
  await ensurePublication(
    oltp,
    src.publication,
    tables.map((t) => t.source),
  );
  const slot = await slotInfo(oltp, src.slot);
  const stored = await warehouse.query('SELECT slot_name FROM cdc_slot_state WHERE source = $1', [src.name]);
  if (slot.exists) {
    if (stored.rowCount) return { created: false };
    throw new ConfigError(
      `replication slot ${src.slot} exists but the warehouse has no position for source ${src.name}: ` +
        `drop it (learnsync cdc drop-slot ${src.name}) and start again, which copies the tables afresh`,
    );
  }
  // No slot (new, or dropped: the changes since are lost to it) → a fresh copy inside its snapshot.
  const exported = await createSlotWithSnapshot(src.oltpUrl, src.slot);
  try {
    const copied: Record<string, number> = {};
    await withTransaction(warehouse, async (tx) => {
      for (const t of tables) {
        const counts = await syncDimension(oltp, tx, t.spec, {
          jobName: `cdc_${t.spec.job}`,
          sourceSnapshot: exported.snapshotName,
        });
        copied[t.spec.table] = counts.processed;
      }
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
    // Without its copy the slot would stream changes onto a warehouse that never saw the rows before them.
    await dropSlot(oltp, src.slot).catch(() => {});
    throw err;
  } finally {
    await exported.release();
  }
}

export interface RunOptions {
  durationMs: number;
  maxBatchChanges?: number;
  maxBatchWaitMs?: number;
  signal?: AbortSignal;
  /** After each committed batch (heartbeat the position here). */
  onBatch?: (counts: ApplyCounts) => void;
}

export interface RunSummary extends ConsumeSummary {
  opened: number;
  closed: number;
  rejected: number;
}

export async function runCdc(warehouse: Pool, src: CdcSource, opts: RunOptions): Promise<RunSummary> {
  const stored = await warehouse.query<{ lsn: string }>(
    'SELECT applied_lsn::text AS lsn FROM cdc_slot_state WHERE source = $1',
    [src.name],
  );
  if (!stored.rowCount) throw new ConfigError(`CDC source ${src.name} is not started: run learnsync cdc start`);
  const totals = { opened: 0, closed: 0, rejected: 0 };
  const summary = await consumeChanges(
    {
      connection: { connectionString: src.oltpUrl, application_name: `learnsync-cdc-${src.name}` },
      slot: src.slot,
      publication: src.publication,
      durationMs: opts.durationMs,
      maxBatchChanges: opts.maxBatchChanges,
      maxBatchWaitMs: opts.maxBatchWaitMs,
      appliedLsn: stored.rows[0]!.lsn,
      signal: opts.signal,
    },
    async (batch) => {
      const counts = await withTransaction(warehouse, (tx) => applyCdcBatch(tx, src.name, batch, src.tables));
      totals.opened += counts.opened;
      totals.closed += counts.closed;
      totals.rejected += counts.rejected;
      opts.onBatch?.(counts);
    },
  );
  return { ...summary, ...totals };
}

export interface CdcLag extends SlotInfo {
  source: string;
  appliedLsn: string | null;
  appliedCommitTime: string | null;
  /** Server-measured delay of the consumer's flush confirmations while it is connected. */
  lagSeconds: number | null;
}

export async function cdcLag(warehouse: Pool, oltp: Pool | pg.PoolClient, src: CdcSource): Promise<CdcLag> {
  const slot = await slotInfo(oltp, src.slot);
  const stored = await warehouse.query<{ lsn: string; t: Date | null }>(
    'SELECT applied_lsn::text AS lsn, applied_commit_time AS t FROM cdc_slot_state WHERE source = $1',
    [src.name],
  );
  const lag = await oltp.query<{ s: number | null }>(
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

export interface CdcStatus {
  source: string;
  slot: string;
  publication: string;
  appliedLsn: string;
  appliedCommitTime: string | null;
  changesApplied: number;
  batchesApplied: number;
  initialCopyAt: string | null;
  lagSeconds: number | null;
  lagBytes: number | null;
  lagMeasuredAt: string | null;
  lagAlertSeconds: number | null;
  /** Lag over its threshold: said in `status` and raised as an alert line. */
  alert: string | null;
}

/** Measures the slot's WAL lag and stores it (status reads only the warehouse). */
export async function recordLag(warehouse: Pool, oltp: Pool, src: CdcSource, alertSeconds: number): Promise<CdcLag> {
  const lag = await cdcLag(warehouse, oltp, src);
  await warehouse.query(
    `UPDATE cdc_slot_state SET lag_bytes = $2, lag_measured_at = now(), lag_alert_seconds = $3 WHERE source = $1`,
    [src.name, lag.lagBytes, alertSeconds],
  );
  return lag;
}

export async function readCdcStatus(warehouse: Pool): Promise<CdcStatus[]> {
  const exists = await warehouse.query("SELECT to_regclass('cdc_slot_state') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) return [];
  const { rows } = await warehouse.query(
    `SELECT source, slot_name, publication, applied_lsn::text AS lsn, applied_commit_time, changes_applied::float8 AS c,
            batches_applied::float8 AS b, initial_copy_at, lag_seconds, lag_bytes::float8 AS lag_bytes,
            lag_measured_at, lag_alert_seconds
       FROM cdc_slot_state ORDER BY source`,
  );
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return rows.map((r) => {
    const over = r.lag_alert_seconds !== null && r.lag_seconds !== null && r.lag_seconds > r.lag_alert_seconds;
    return {
      source: r.source,
      slot: r.slot_name,
      publication: r.publication,
      appliedLsn: r.lsn,
      appliedCommitTime: iso(r.applied_commit_time),
      changesApplied: r.c,
      batchesApplied: r.b,
      initialCopyAt: iso(r.initial_copy_at),
      lagSeconds: r.lag_seconds,
      lagBytes: r.lag_bytes,
      lagMeasuredAt: iso(r.lag_measured_at),
      lagAlertSeconds: r.lag_alert_seconds,
      alert: over
        ? `CDC lag ${Math.round(r.lag_seconds)} s over WAREHOUSE_CDC_LAG_ALERT_SECONDS=${r.lag_alert_seconds}: ` +
          'is the cdc workflow running (learnsync cdc status)?'
        : null,
    };
  });
}

/** Drops the slot (the source keeps no WAL for it any more) and forgets its position. */
export async function dropCdc(warehouse: Pool, oltp: Pool, src: CdcSource): Promise<boolean> {
  const dropped = await dropSlot(oltp, src.slot);
  await warehouse.query('DELETE FROM cdc_slot_state WHERE source = $1', [src.name]);
  return dropped;
}
