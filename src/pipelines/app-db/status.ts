// Per-table sync state for `status`, the admin API and the demo: every configured table, with
// what bq_sync_tracking knows of it (cursor, last sync, rows moved, last error) or "never synced".
import type { StatusSection } from '../../runtime/status-section.js';
import type { Pool } from '../../connectors/postgres.js';
import { APP_DB_TABLES } from './definition.js';
import { readAllTracking } from './tracking.js';

export interface AppDbTableStatus {
  table: string;
  mode: string;
  lastRowId: number | null;
  cursor: string | null;
  lastSyncAt: string | null;
  lastSyncMode: string | null;
  lastFullSyncAt: string | null;
  rows: { read: number; appended: number; merged: number; deleted: number; rejected: number };
  columns: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The last time the cursor was reset because BigQuery lost the table or rows, and why. */
  lastReset: string | null;
  lastResetAt: string | null;
  /** How the last sync found changes: `cdc` (the SQLite change log, APP_DB_CAPTURE=cdc) or `snapshot` (cursors). */
  capture: 'cdc' | 'snapshot' | null;
  /** The change-log position the last cdc sync covered. */
  changeSeq: number | null;
}

export async function readAppDbStatus(pool: Pool, dataset: string): Promise<AppDbTableStatus[]> {
  const byName = new Map((await readAllTracking(pool, dataset)).map((r) => [r.table_name, r]));
  return APP_DB_TABLES.map((t) => {
    const r = byName.get(t.name);
    return {
      table: t.name,
      mode: t.mode,
      lastRowId: r?.last_synced_row_id != null ? Number(r.last_synced_row_id) : null,
      cursor: r?.last_cursor ?? null,
      lastSyncAt: r?.last_sync_at?.toISOString() ?? null,
      lastSyncMode: r?.last_sync_mode ?? null,
      lastFullSyncAt: r?.last_full_sync_at?.toISOString() ?? null,
      rows: {
        read: Number(r?.last_rows_read ?? 0),
        appended: Number(r?.last_rows_appended ?? 0),
        merged: Number(r?.last_rows_merged ?? 0),
        deleted: Number(r?.last_rows_deleted ?? 0),
        rejected: Number(r?.last_rows_rejected ?? 0),
      },
      columns: r?.believed_schema?.length ?? null,
      lastError: r?.last_error ?? null,
      lastErrorAt: r?.last_error_at?.toISOString() ?? null,
      lastReset: r?.last_reset ?? null,
      lastResetAt: r?.last_reset_at?.toISOString() ?? null,
      capture: !r?.last_sync_at ? null : r.last_change_seq != null ? 'cdc' : 'snapshot',
      changeSeq: r?.last_change_seq != null ? Number(r.last_change_seq) : null,
    };
  });
}

/** The per-table table `learnsync demo` (and `status`) prints. */
export function formatAppDbStatus(rows: readonly AppDbTableStatus[]): string[] {
  const header = [
    'table',
    'mode',
    'last sync',
    'read',
    'appended',
    'merged',
    'deleted',
    'rejected',
    'cursor / last id',
    'capture',
    'error / last reset',
  ];
  const body = rows.map((r) => [
    r.table,
    r.mode,
    r.lastSyncAt ? `${r.lastSyncMode} ${r.lastSyncAt.slice(0, 19).replace('T', ' ')}` : 'never',
    String(r.rows.read),
    String(r.rows.appended),
    String(r.rows.merged),
    String(r.rows.deleted),
    String(r.rows.rejected),
    r.mode === 'append' ? String(r.lastRowId ?? '—') : (r.cursor ?? '—'),
    r.capture === 'cdc' ? `cdc @${r.changeSeq}` : (r.capture ?? ''),
    r.lastError ? r.lastError.slice(0, 60) : r.lastReset ? `${r.lastReset.slice(0, 60)}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 && i <= 7 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)];
}

/** The `learnsync status` section: per destination dataset and table, the app database → BigQuery sync state. */
export const appDbStatusSection: StatusSection = {
  title: 'App database → BigQuery (bq_sync_tracking)',
  async render(ctx) {
    const pool = await ctx.warehouse();
    const datasets = await trackedDatasets(pool);
    if (!datasets.length) return ['never synced'];
    const lines: string[] = [];
    for (const d of datasets)
      lines.push(`${d}:`, ...formatAppDbStatus(await readAppDbStatus(pool, d)).map((l) => `  ${l}`));
    return lines;
  },
  async json(ctx) {
    const pool = await ctx.warehouse();
    const out: Record<string, AppDbTableStatus[]> = {};
    for (const d of await trackedDatasets(pool)) out[d] = await readAppDbStatus(pool, d);
    return out;
  },
};

async function trackedDatasets(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ dataset: string }>('SELECT DISTINCT dataset FROM bq_sync_tracking ORDER BY 1');
  return rows.map((r) => r.dataset);
}
