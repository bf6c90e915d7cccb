// The app-db family's rejected rows in etl_rejects (issue 17): every row the sync could not load
// lands there with its reason, the offending column and value, and the row as read (secret
// columns hashed, dropped columns absent) — never only a count. Written in the job's transaction,
// so they commit with the tracking row they belong to. A sync replaces the rejects of the rows it
// re-reads: everything of the table on a full sync or a first read, the ids above the last one for
// append tables, the rows at or after the cursor's instant for merge tables. What stays is the
// table's current set of rejected source rows.
import type pg from 'pg';
import { InvalidUtf8, type RowsAfter } from '../../connectors/app-db/source.js';

export interface RowReject {
  key: unknown;
  /** The cursor's instant (epoch ms) of a merge table's row, when it has one. */
  cursorMs: number | null;
  column: string | null;
  reason: string;
  value: unknown;
  row: Record<string, unknown>;
}

/** What syncTable tells about rejects: the window it is about to read, then each rejected row. */
export interface RejectSink {
  beginWindow(after: RowsAfter | undefined): Promise<void>;
  add(r: RowReject): Promise<void>;
  flush(): Promise<void>;
}

const BATCH = 500;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** jsonb takes neither NUL characters nor lone surrogates, nor BigInt or Buffer: their exact text instead. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return { base64: v.toString('base64') };
  if (v instanceof InvalidUtf8) return { invalid_utf8_base64: v.bytes.toString('base64') };
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (typeof v === 'string') {
    if (!v.includes('\0') && !LONE_SURROGATE.test(v)) return v;
    // Escaped as text (backslashes first, so the escapes stay unambiguous).
    return v
      .replace(/\\/g, '\\\\')
      .replace(/\0/g, '\\u0000')
      .replace(new RegExp(LONE_SURROGATE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  }
  if (v && typeof v === 'object') {
    return Array.isArray(v)
      ? v.map(jsonSafe)
      : Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, jsonSafe(x)]));
  }
  return v;
}

export function appDbRejectSink(
  tx: pg.PoolClient,
  job: { jobName: string; dataset: string; table: string; mode: 'append' | 'merge' },
): RejectSink {
  let pending: Array<{ reason: string; raw: unknown }> = [];
  const scope = `raw->>'app_db_table' = $1 AND raw->>'app_db_dataset' = $2`;
  async function flush(): Promise<void> {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    await tx.query(
      `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
       SELECT $1, NULL, x.reason, x.raw FROM jsonb_to_recordset($2::jsonb) AS x(reason text, raw jsonb)`,
      [job.jobName, JSON.stringify(batch)],
    );
  }
  return {
    async beginWindow(after) {
      const params: unknown[] = [job.table, job.dataset];
      let window = '';
      if (after?.instant) window = ` AND (raw->>'app_db_cursor_ms')::float8 >= $3`;
      else if (after) window = ` AND (raw->>'app_db_key')::numeric > $3`;
      if (after) params.push(after.value);
      await tx.query(`DELETE FROM etl_rejects WHERE raw ? 'app_db_table' AND ${scope}${window}`, params);
    },
    async add(r) {
      pending.push({
        reason: r.reason,
        raw: {
          app_db_table: job.table,
          app_db_dataset: job.dataset,
          app_db_key: jsonSafe(r.key),
          ...(r.cursorMs !== null && { app_db_cursor_ms: r.cursorMs }),
          column: r.column,
          value: jsonSafe(r.value),
          row: jsonSafe(r.row),
        },
      });
      if (pending.length >= BATCH) await flush();
    },
    flush,
  };
}
