// Page-by-page extraction of one school API table into the warehouse. Each page's rows, its
// rejects, the table's progress marker (next page, rows so far, newest updated_at seen) and the
// calls it cost commit in one transaction; the last page also moves the cursor and, for a full
// read, sweeps rows the API no longer returns. A retry reads the progress row and continues at the
// next uncommitted page: no committed page is fetched twice. The cursor only moves when a table is
// complete, and only forward; windows use range[updated_at] >= cursor, so records sharing the
// boundary timestamp are read again and merged idempotently on the primary key, never lost.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SchoolApiClient } from '../../connectors/school-api/client.js';
import { reportPosition } from '../../runtime/heartbeat.js';
import type { PagedJob } from '../../runtime/ledger/paged-job-runner.js';
import { completeRow, upsertSql, type Scope, type SchoolTableSpec } from './tables.js';

export type Lane = 'nightly' | 'incremental';
export type Mode = 'full' | 'window';

export interface SyncContext {
  job: PagedJob;
  pool: pg.Pool;
  client: SchoolApiClient;
  jobName: string;
  targetDate?: string;
  /** Progress of a run with the same key is resumed: the target date, or 'incremental'. */
  runKey: string;
  lane: Lane;
  force: boolean;
  pageSize: number;
  scope: Scope;
  logger: Logger;
}

export interface TableOutcome {
  table: string;
  mode: Mode | 'already-complete';
  resumedAtPage?: number;
  pages: number;
  read: number;
  loaded: number;
  inserted: number;
  updated: number;
  rejected: number;
  deleted: number;
  outOfScope: number;
  cursor?: string;
}

export interface ProgressRow {
  job_name: string;
  resource: string;
  run_key: string;
  state: 'running' | 'complete' | 'idle';
  mode: Mode;
  window_start: string | null;
  window_end: string | null;
  next_page: number;
  pages_committed: number;
  rows_committed: number;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const isoOf = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', ${ISO})`;
/** Consecutive unreadable pages after which the run stops: the API is broken, not one page. */
const MAX_CONSECUTIVE_MALFORMED = 3;

export const cursorName = (table: string, lane: Lane) => `school-api:${table}:updated_at:${lane}`;

export async function readProgress(db: pg.Pool | pg.PoolClient, jobName: string): Promise<Map<string, ProgressRow>> {
  const { rows } = await db.query<ProgressRow>(
    `SELECT job_name, resource, run_key, state, mode, ${isoOf('window_start')} AS window_start,
            ${isoOf('window_end')} AS window_end,
            next_page, pages_committed, rows_committed::int AS rows_committed
       FROM api_extract_progress WHERE job_name = $1`,
    [jobName],
  );
  return new Map(rows.map((r) => [r.resource, r]));
}

/** The lane's cursor, else the other lane's (a bootstrap writes both), else none: read everything. */
export async function readCursor(db: pg.Pool | pg.PoolClient, table: string, lane: Lane): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string; value: string }>(
    'SELECT name, value FROM etl_cursors WHERE name = ANY($1)',
    [[cursorName(table, 'nightly'), cursorName(table, 'incremental')]],
  );
  const other: Lane = lane === 'nightly' ? 'incremental' : 'nightly';
  return (
    rows.find((r) => r.name === cursorName(table, lane))?.value ??
    rows.find((r) => r.name === cursorName(table, other))?.value
  );
}

export async function syncTable(
  ctx: SyncContext,
  spec: SchoolTableSpec,
  existing: ProgressRow | undefined,
): Promise<TableOutcome> {
  const out: TableOutcome = {
    table: spec.name,
    mode: 'full',
    pages: 0,
    read: 0,
    loaded: 0,
    inserted: 0,
    updated: 0,
    rejected: 0,
    deleted: 0,
    outOfScope: 0,
  };
  const sameRun = existing?.run_key === ctx.runKey;
  if (sameRun && existing.state === 'complete') return { ...out, mode: 'already-complete' };
  let progress: ProgressRow;
  if (sameRun && existing.state === 'running' && !(ctx.force && existing.mode === 'window')) {
    progress = existing;
    out.resumedAtPage = existing.next_page;
    ctx.logger.info(
      { job: ctx.jobName, table: spec.name, page: existing.next_page, rowsCommitted: existing.rows_committed },
      'resuming a paginated extraction',
    );
  } else {
    progress = await startProgress(ctx, spec);
  }
  out.mode = progress.mode;
  const ep = spec.endpoint(ctx.scope, progress.mode);
  const query =
    progress.mode === 'window'
      ? { ...ep.query, 'range[updated_at]': `${progress.window_start},${progress.window_end}` }
      : ep.query;
  const upsert = upsertSql(spec);
  let malformedInARow = 0;

  for (let page = progress.next_page; ; page++) {
    reportPosition({ table: spec.name, page, rowsCommitted: progress.rows_committed + out.loaded });
    const res = await ctx.client.getPage({ path: ep.path, endpoint: ep.endpoint, query, page, size: ctx.pageSize });
    const r = await ctx.job.commit(async (tx) => {
      const c = {
        read: 0,
        loaded: 0,
        inserted: 0,
        rejected: 0,
        outOfScope: 0,
        deleted: 0,
        last: false,
        maxUpdated: null as string | null,
      };
      if (res.kind === 'malformed') {
        // Not knowing how many rows the page held, we cannot tell whether it was the last: go on.
        await reject(tx, ctx, `malformed page ${page} of ${ep.endpoint}: ${res.reason}`, {
          table: spec.name,
          endpoint: ep.endpoint,
          path: ep.path,
          query,
          page,
          size: ctx.pageSize,
          status: res.status,
          body: res.body,
        });
        c.rejected = 1;
      } else {
        c.last = res.items.length < ctx.pageSize;
        c.read = res.items.length;
        const good: Record<string, unknown>[] = [];
        const leaving: number[] = [];
        for (const item of res.items) {
          const parsed = spec.item.safeParse(item);
          if (!parsed.success) {
            await reject(
              tx,
              ctx,
              `invalid ${spec.name} item: ${parsed.error.issues
                .map((i) => `${i.path.join('.') || 'item'} ${i.message}`)
                .join('; ')}`,
              item,
            );
            c.rejected++;
            continue;
          }
          const row = completeRow(spec, parsed.data, ctx.scope);
          if (typeof row.updated_at === 'string' && (!c.maxUpdated || row.updated_at > c.maxUpdated))
            c.maxUpdated = row.updated_at;
          if (spec.inScope && !spec.inScope(row, ctx.scope)) leaving.push(row.id as number);
          else good.push(row);
        }
        if (good.length) {
          const up = await tx.query<{ inserted: boolean }>(upsert, [JSON.stringify(good)]);
          c.inserted = up.rows.filter((x) => x.inserted).length;
        }
        if (leaving.length) {
          const del = await tx.query(`DELETE FROM ${spec.table} WHERE id = ANY($1::int[])`, [leaving]);
          c.deleted += del.rowCount ?? 0;
        }
        c.loaded = good.length;
        c.outOfScope = leaving.length;
        if (c.read !== c.loaded + c.rejected + c.outOfScope) {
          throw new Error(
            `reconciliation failed on ` +
              `page ${page} of ${spec.name}: read ${c.read} ≠ loaded ${c.loaded} + rejected ${c.rejected} + out of ` +
              `scope ${c.outOfScope}`,
          );
        }
      }
      const p = await tx.query<{ max_updated_at: string | null; run_started_at: Date }>(
        `UPDATE api_extract_progress SET next_page = $3 + 1, pages_committed = pages_committed + 1,
                rows_committed = rows_committed + $4, rows_rejected = rows_rejected + $5,
                max_updated_at = GREATEST(max_updated_at, $6::timestamptz), state = CASE WHEN $7 THEN 'complete'
                  ELSE state END, updated_at = now()
          WHERE job_name = $1 AND resource = $2
          RETURNING ${isoOf('max_updated_at')} AS max_updated_at, run_started_at`,
        [ctx.jobName, spec.name, page, c.loaded, c.rejected, c.maxUpdated, c.last],
      );
      let cursor: string | undefined;
      if (c.last) {
        const seen = p.rows[0]!.max_updated_at;
        if (seen && spec.kind === 'active')
          cursor = await moveCursor(
            tx,
            spec.name,
            progress.mode === 'full' ? ['nightly', 'incremental'] : [ctx.lane],
            seen,
          );
        if (progress.mode === 'full') {
          // Rows no page of this full read touched are gone from the API (or from the scope).
          const swept = await tx.query(`DELETE FROM ${spec.table} WHERE synced_at < $1`, [p.rows[0]!.run_started_at]);
          c.deleted += swept.rowCount ?? 0;
        }
      }
      return { ...c, cursor };
    });
    out.pages++;
    out.read += r.read;
    out.loaded += r.loaded;
    out.inserted += r.inserted;
    out.updated += r.loaded - r.inserted;
    out.rejected += r.rejected;
    out.deleted += r.deleted;
    out.outOfScope += r.outOfScope;
    if (r.cursor) out.cursor = r.cursor;
    if (res.kind === 'malformed') {
      if (++malformedInARow >= MAX_CONSECUTIVE_MALFORMED) {
        throw new Error(
          `${MAX_CONSECUTIVE_MALFORMED} unreadable pages in a row ` +
            `from ${ep.endpoint} (pages ${page - MAX_CONSECUTIVE_MALFORMED + 1}..${page}); stopping, the run resumes ` +
            `at page ${page + 1}`,
        );
      }
    } else malformedInARow = 0;
    if (r.last) break;
  }
  return out;
}

/** Opens a fresh run of a table: full (no cursor, forced, or a reference table) or a window from the cursor to now. */
async function startProgress(ctx: SyncContext, spec: SchoolTableSpec): Promise<ProgressRow> {
  const cursor = spec.kind === 'active' && !ctx.force ? await readCursor(ctx.pool, spec.name, ctx.lane) : undefined;
  const mode: Mode = cursor ? 'window' : 'full';
  const windowEnd = mode === 'window' ? new Date().toISOString() : null;
  return ctx.job.commit(async (tx) => {
    const { rows } = await tx.query<ProgressRow>(
      `INSERT INTO api_extract_progress (job_name, resource, run_key, state, mode, window_start, window_end,
                                         run_started_at,
                                         next_page, pages_committed, rows_committed, rows_rejected, max_updated_at,
                                           updated_at)
       VALUES ($1, $2, $3, 'running', $4, $5, $6, now(), 1, 0, 0, 0, NULL, now())
       ON CONFLICT (job_name, resource) DO UPDATE SET run_key = EXCLUDED.run_key, state = 'running',
         mode = EXCLUDED.mode,
         window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end, run_started_at = now(), next_page = 1,
         pages_committed = 0, rows_committed = 0, rows_rejected = 0, max_updated_at = NULL, updated_at = now()
       RETURNING job_name, resource, run_key, state, mode, ${isoOf('window_start')} AS window_start,
                 ${isoOf('window_end')} AS window_end,
                 next_page, pages_committed, rows_committed::int AS rows_committed`,
      [ctx.jobName, spec.name, ctx.runKey, mode, cursor ?? null, windowEnd],
    );
    return rows[0]!;
  });
}

/** Moves cursors forward only (GREATEST), in the caller's transaction; returns the lane's new value. */
async function moveCursor(tx: pg.PoolClient, table: string, lanes: Lane[], seen: string): Promise<string> {
  let value = seen;
  for (const lane of lanes) {
    const { rows } = await tx.query<{ value: string }>(
      `INSERT INTO etl_cursors (name, value, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET
         value = ${isoOf('GREATEST(etl_cursors.value::timestamptz, EXCLUDED.value::timestamptz)')}, updated_at = now()
       RETURNING value`,
      [cursorName(table, lane), seen],
    );
    if (lane === lanes[0]) value = rows[0]!.value;
  }
  return value;
}

async function reject(tx: pg.PoolClient, ctx: SyncContext, reason: string, raw: unknown): Promise<void> {
  await tx.query('INSERT INTO etl_rejects (job_name, target_date, reason, raw) VALUES ($1, $2, $3, $4::jsonb)', [
    ctx.jobName,
    ctx.targetDate ?? null,
    reason.slice(0, 2000),
    JSON.stringify(raw ?? null),
  ]);
}
