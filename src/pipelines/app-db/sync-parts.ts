// The parts of one table's sync that both paths share — the snapshot path (bigquery-sync.ts) and
// the change-log path (change-sync.ts): the context and outcome, converting a row for BigQuery,
// recording a reject, and small BigQuery helpers. Its own module so neither path imports the other.
import type { Logger } from 'pino';
import { qualifiedName, runQuery, type BigQueryTarget } from '../../connectors/bigquery/client.js';
import type { SourceReader, SqliteChangeLog } from '../../connectors/app-db/source.js';
import { keyedHash, type PrivacyRules } from './privacy.js';
import { toBigQueryValue, type BigQueryType, type TargetColumn } from './schema-mapping.js';
import type { AppDbTable } from './definition.js';
import type { TrackingRow } from './tracking.js';
import type { RejectSink } from './rejects.js';

export type SyncMode = 'incremental' | 'full';

/** NDJSON lines per string handed to a load job's upload (and per progress report). */
export const LINES_PER_CHUNK = 500;

export interface TableSyncContext {
  target: BigQueryTarget;
  source: SourceReader;
  privacy: PrivacyRules;
  syncMode: SyncMode;
  tracking?: TrackingRow;
  logger?: Logger;
  /** Called every few thousand rows with the rows read so far (heartbeats). */
  onProgress?: (rowsRead: number) => void;
  /** Where rejected rows go (etl_rejects, in the job's transaction); unset → counted only. */
  rejects?: RejectSink;
  /** Test seam: runs after the load job, before the MERGE (a crash there must leave nothing behind). */
  beforeApply?: (table: string) => Promise<void>;
  /** cdc: incremental syncs read a change log (change-sync.ts); snapshot (default): cursors. */
  capture?: 'snapshot' | 'cdc';
  /** cdc on Postgres: the log its capture fills (postgres-change-log.ts); SQLite readers bring their own. */
  changeLog?: SqliteChangeLog;
  /** Rows per load job of a direct load (default DIRECT_LOAD_ROWS_PER_JOB; tests use fewer). */
  directLoadRowsPerJob?: number;
  /** Test seam: runs after each load job of a direct load (a crash there leaves a prefix loaded). */
  afterLoadJob?: (table: string, job: number) => Promise<void>;
}

export interface TableSyncOutcome {
  table: string;
  syncMode: SyncMode;
  read: number;
  rejected: number;
  rejectReason: string | null;
  appended: number;
  merged: number;
  deleted: number;
  lastRowId: number | null;
  lastCursor: string | null;
  /** Rows at exactly lastCursor: the next run skips the table when nothing is newer and this has not grown. */
  lastCursorRows: number | null;
  /** The change-log position this sync covers (APP_DB_CAPTURE=cdc), else null. */
  lastChangeSeq: number | null;
  schema: TargetColumn[];
  columnsAdded: string[];
  /** Columns dropped from BigQuery because APP_DB_DROP_COLUMNS lists them now. */
  columnsDropped: string[];
  /** Columns cleared because their secret status changed (the table was then read whole). */
  columnsReset: string[];
  /** The columns that left as keyed hashes (recorded, to notice a change next time). */
  secretColumns: string[];
  /** Rows BigQuery holds after this sync (recorded, to notice a table that lost rows). */
  targetRows: number | null;
  /** Why the cursor was reset (the table read whole), or null. */
  reset: string | null;
  loadMs: number;
  applyMs: number;
}

export const stagingTableName = (table: string) => `_learnsync_stg_${table}`;

/** One source row as BigQuery takes it (secret columns hashed), or the column it fails on and why. */
export function convertRow(
  desired: readonly TargetColumn[],
  secret: ReadonlySet<string>,
  hashKey: string,
  key: string,
  row: Record<string, unknown>,
): { out: Record<string, unknown> } | { column: string | null; reason: string } {
  const out: Record<string, unknown> = {};
  let column: string | null = null;
  try {
    for (const c of desired) {
      column = c.name;
      const v = row[c.name];
      out[c.name] = secret.has(c.name) ? keyedHash(hashKey, v) : toBigQueryValue(v, c.type);
    }
    column = key;
    if (out[key] === null) throw new Error(`${key} is null`);
  } catch (err) {
    return { column, reason: `${column}: ${(err as Error).message}` };
  }
  return { out };
}

/** A row that cannot leave: counted, its first reason kept, and the row itself to the reject sink. */
export async function rejectRow(
  ctx: TableSyncContext,
  spec: AppDbTable,
  outcome: TableSyncOutcome,
  row: Record<string, unknown>,
  failed: { column: string | null; reason: string },
  cursorMs: number | null,
  columns: readonly string[],
  privacy: { secret: ReadonlySet<string> },
): Promise<void> {
  outcome.rejected++;
  outcome.rejectReason ??= `${spec.key}=${String(row[spec.key])}: ${failed.reason}`;
  const hashKey = ctx.privacy.hashKey;
  await ctx.rejects?.add({
    key: row[spec.key] ?? null,
    cursorMs,
    column: failed.column,
    reason: failed.reason,
    value: failed.column === null ? null : row[failed.column],
    // As it would have left: secret columns hashed (dropped ones were never read).
    row: Object.fromEntries(columns.map((n) => [n, privacy.secret.has(n) ? keyedHash(hashKey, row[n]) : row[n]])),
  });
}

/** A rejected row's key as BigQuery holds it, or null when the key itself is what is wrong. */
export function keyValue(v: unknown, type: BigQueryType): unknown {
  try {
    return toBigQueryValue(v, type);
  } catch {
    return null;
  }
}

export function laterKey(a: unknown, b: unknown): unknown {
  if (a === null || a === undefined) return b;
  if (b === null || b === undefined) return a;
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as bigint) >= BigInt(b as bigint) ? a : b;
  return Number(a) >= Number(b) ? a : b;
}

export const countRows = async (ctx: TableSyncContext, table: string): Promise<number> =>
  Number(
    (
      await runQuery<{ n: number }>(
        ctx.target,
        `SELECT COUNT(*) AS n FROM ${qualifiedName(ctx.target, table)}`,
        undefined,
        `rows of ${table}`,
      )
    ).rows[0]?.n ?? 0,
  );
