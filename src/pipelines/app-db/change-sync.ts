// The incremental sync of one table from its change log (APP_DB_CAPTURE=cdc, SQLite): every key
// changed since the stored log position — inserts, updates with or without updated_at, edits of
// insert-only rows, deletes — with the row it has now (absent: deleted) is staged with its
// operation and applied with one MERGE:
//   WHEN MATCHED AND op = 'D' THEN DELETE / WHEN MATCHED THEN UPDATE / WHEN NOT MATCHED AND op = 'U' THEN INSERT
// Current rows, not logged values, go out, so applying the same changes twice (a crash between the
// MERGE and the commit of the position) gives the same table; the caller stores the new position
// in the warehouse transaction that records the sync, and the log is trimmed only up to a committed
// position. A row that cannot be converted is a reject and BigQuery keeps its last good version.
import { dropTable, loadNdjson, qualifiedName, quoteIdent, runQuery } from '../../connectors/bigquery/client.js';
import type { SqliteChangeLog } from '../../connectors/app-db/sqlite-changes.js';
import { instantMs, instantText } from '../../connectors/app-db/instant.js';
import type { TargetColumn } from './schema-mapping.js';
import type { AppDbTable } from './definition.js';
import {
  convertRow,
  countRows,
  LINES_PER_CHUNK,
  keyValue,
  laterKey,
  rejectRow,
  stagingTableName,
  type TableSyncContext,
  type TableSyncOutcome,
} from './sync-parts.js';

/** The staging column that carries each key's operation: 'U' (upsert its current row) or 'D'. */
export const OP_COLUMN = '_learnsync_op';

export async function syncChanges(
  ctx: TableSyncContext,
  spec: AppDbTable,
  log: SqliteChangeLog,
  desired: TargetColumn[],
  secret: ReadonlySet<string>,
  from: number,
  upto: number,
  outcome: TableSyncOutcome,
): Promise<void> {
  if (upto <= from) return;
  const { target } = ctx;
  const staging = stagingTableName(spec.name);
  const columns = desired.map((c) => c.name);
  const keyType = desired.find((c) => c.name === spec.key)?.type ?? 'INT64';
  let written = 0;
  let upserts = 0;
  let maxKey: unknown = null;
  let maxCursor: number | null = null;
  async function* ndjson(): AsyncIterable<string> {
    let chunk: string[] = [];
    for await (const change of log.changedRows(spec.name, spec.key, columns, from, upto)) {
      outcome.read++;
      if (change.row === null) {
        // A key BigQuery could not hold was never loaded: nothing to delete.
        const key = keyValue(change.key, keyType);
        if (key === null) continue;
        chunk.push(JSON.stringify({ [spec.key]: key, [OP_COLUMN]: 'D' }));
      } else {
        const row = change.row;
        const cursorAt = instantMs(row[spec.cursorColumn]);
        const converted = convertRow(desired, secret, ctx.privacy.hashKey, spec.key, row);
        if ('reason' in converted) {
          await rejectRow(ctx, spec, outcome, row, converted, cursorAt, columns, { secret });
          continue;
        }
        maxKey = laterKey(maxKey, row[spec.key]);
        if (cursorAt !== null && (maxCursor === null || cursorAt > maxCursor)) maxCursor = cursorAt;
        chunk.push(JSON.stringify({ ...converted.out, [OP_COLUMN]: 'U' }));
        upserts++;
      }
      written++;
      if (chunk.length >= LINES_PER_CHUNK) {
        yield chunk.join('\n') + '\n';
        chunk = [];
        ctx.onProgress?.(outcome.read);
      }
    }
    if (chunk.length) yield chunk.join('\n') + '\n';
    await ctx.rejects?.flush();
  }

  const T = qualifiedName(target, spec.name);
  const S = qualifiedName(target, staging);
  const key = quoteIdent(spec.key);
  const op = quoteIdent(OP_COLUMN);
  const cols = columns.map(quoteIdent);
  const startedLoad = Date.now();
  try {
    await dropTable(target, staging);
    const load = await loadNdjson(target, staging, ndjson(), {
      schema: [...desired, { name: OP_COLUMN, type: 'STRING' }],
      writeDisposition: 'WRITE_TRUNCATE',
    });
    if (load.outputRows !== written)
      throw new Error(`load job ${load.jobId} loaded ${load.outputRows} rows of ${spec.name} but ${written} were sent`);
    outcome.loadMs = Date.now() - startedLoad;
    await ctx.beforeApply?.(spec.name);
    const startedApply = Date.now();
    const d = await runQuery<{ n: number }>(
      target,
      `SELECT COUNT(*) AS n FROM ${S} S JOIN ${T} T ON T.${key} = S.${key} WHERE S.${op} = 'D'`,
      undefined,
      `keys deleted from ${spec.name}`,
    );
    outcome.deleted = Number(d.rows[0]?.n ?? 0);
    const updates = cols.filter((c) => c !== key).map((c) => `${c} = S.${c}`);
    const values = cols.map((c) => `S.${c}`).join(', ');
    const r = await runQuery(
      target,
      `MERGE ${T} T USING ${S} S ON T.${key} = S.${key}
       WHEN MATCHED AND S.${op} = 'D' THEN DELETE
       ${updates.length ? `WHEN MATCHED AND S.${op} = 'U' THEN UPDATE SET ${updates.join(', ')}` : ''}
       WHEN NOT MATCHED AND S.${op} = 'U' THEN INSERT (${cols.join(', ')}) VALUES (${values})`,
      undefined,
      `merge the changes of ${spec.name}`,
    );
    outcome.applyMs = Date.now() - startedApply;
    outcome.merged = Math.max(0, Math.min(upserts, r.affectedRows - outcome.deleted));
    outcome.targetRows = await countRows(ctx, spec.name);
  } finally {
    await dropTable(target, staging).catch((err: unknown) =>
      ctx.logger?.warn({ table: staging, err: (err as Error).message }, 'could not drop staging table'),
    );
  }
  // The snapshot cursors follow too, so switching back to APP_DB_CAPTURE=snapshot reads on from here.
  if (maxKey !== null && spec.mode === 'append') outcome.lastRowId = Math.max(outcome.lastRowId ?? 0, Number(maxKey));
  if (maxCursor !== null && spec.mode === 'merge') {
    const previous = instantMs(outcome.lastCursor);
    if (previous === null || maxCursor > previous) {
      outcome.lastCursor = instantText(maxCursor);
      outcome.lastCursorRows = null;
    }
  }
}
