// What every CDC source's consumer last stored in cdc_slot_state, read once for `learnsync status`
// (text and --json), `learnsync cdc status`, the dashboard, the alert rule and /metrics gauges:
// applied position, lag in seconds and bytes, and how close the slot's retained WAL is to the
// source's max_slot_wal_keep_size (past it, Postgres invalidates the slot and changes are lost).
import { Gauge } from 'prom-client';
import type { Pool } from '../../connectors/postgres.js';
import { metricsRegistry } from '../metrics.js';
import type { StatusSection } from '../status-section.js';

export const cdcLagSeconds = new Gauge({
  name: 'learnsync_cdc_lag_seconds',
  help: 'Seconds from the source commit of the last applied change to its apply in the warehouse',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const cdcLagBytes = new Gauge({
  name: 'learnsync_cdc_lag_bytes',
  help: 'WAL bytes the CDC replication slot holds back on the source (not yet confirmed by the consumer)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const cdcWalRetainedShare = new Gauge({
  name: 'learnsync_cdc_wal_retained_share',
  help: "Share (0..1) of the source's max_slot_wal_keep_size the CDC slot's retained WAL uses (1: invalidated)",
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

/** Retained WAL at or over this share of max_slot_wal_keep_size raises the alert. */
export const WAL_RETAINED_ALERT_SHARE = 0.8;

export interface CaptureStatus {
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
  /** pg_replication_slots.wal_status when last measured: reserved, extended, unreserved, lost. */
  walStatus: string | null;
  /**
   * Share of max_slot_wal_keep_size the slot's retained WAL uses (lag / (lag + safe_wal_size));
   * null when the source sets no limit (the WAL then grows until its disk is full).
   */
  walRetainedShare: number | null;
  /** Lag over its threshold, or retained WAL near the limit: said in `status` and raised as an alert. */
  alert: string | null;
}

/** The share of the WAL limit the slot uses, from the stored lag and safe_wal_size. */
export function walRetainedShare(lagBytes: number | null, safeWalBytes: number | null, walStatus: string | null) {
  if (walStatus === 'lost') return 1;
  if (lagBytes === null || safeWalBytes === null) return null;
  const limit = lagBytes + Math.max(0, safeWalBytes);
  return limit > 0 ? Math.min(1, lagBytes / limit) : 1;
}

export async function readCaptureStatus(warehouse: Pool): Promise<CaptureStatus[]> {
  const exists = await warehouse.query("SELECT to_regclass('cdc_slot_state') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) return [];
  const { rows } = await warehouse.query(
    `SELECT source, slot_name, publication, applied_lsn::text AS lsn, applied_commit_time, changes_applied::float8 AS c,
            batches_applied::float8 AS b, initial_copy_at, lag_seconds, lag_bytes::float8 AS lag_bytes,
            lag_measured_at, lag_alert_seconds, wal_status, safe_wal_bytes::float8 AS safe_wal_bytes
       FROM cdc_slot_state ORDER BY source`,
  );
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return rows.map((r) => {
    const share = walRetainedShare(r.lag_bytes, r.safe_wal_bytes, r.wal_status);
    const over = r.lag_alert_seconds !== null && r.lag_seconds !== null && r.lag_seconds > r.lag_alert_seconds;
    const alert =
      share !== null && share >= WAL_RETAINED_ALERT_SHARE
        ? `slot ${r.slot_name} retains ${Math.round(share * 100)}% of max_slot_wal_keep_size (wal_status ` +
          `${r.wal_status ?? '?'}): past it Postgres drops the slot's WAL and the capture must start afresh — ` +
          `is cdc-${r.source} running (learnsync cdc status ${r.source})?`
        : over
          ? `CDC lag ${Math.round(r.lag_seconds)} s over WAREHOUSE_CDC_LAG_ALERT_SECONDS=${r.lag_alert_seconds}: ` +
            `is the cdc workflow running (learnsync cdc status ${r.source})?`
          : null;
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
      walStatus: r.wal_status,
      walRetainedShare: share,
      alert,
    };
  });
}

export const cdcStatusSection: StatusSection = {
  title: 'Change data capture (WAREHOUSE_OLTP_CAPTURE / APP_DB_CAPTURE = cdc)',
  async render(ctx) {
    const rows = await readCaptureStatus(await ctx.warehouse());
    if (!rows.length) return ['not started (learnsync cdc start oltp | app_db)'];
    return rows.map(
      (r) =>
        `${r.source.padEnd(12)} slot ${r.slot}  applied ${r.appliedLsn} (${r.changesApplied} changes)  ` +
        `lag ${r.lagSeconds === null ? '?' : r.lagSeconds.toFixed(1)} s, ` +
        `${r.lagBytes === null ? '?' : r.lagBytes} bytes` +
        (r.walRetainedShare === null ? '' : `, ${Math.round(r.walRetainedShare * 100)}% of the WAL limit`) +
        (r.alert ? `  ALERT ${r.alert}` : ''),
    );
  },
  async json(ctx) {
    return readCaptureStatus(await ctx.warehouse());
  },
};
