// One table of the application database into BigQuery:
//   1. schema: create the BigQuery table from the source's columns, ADD COLUMN for new ones, stop
//      (naming the column) when a column's type changed;
//   2. read the rows after the stored cursor (all of them in a full sync) and stream them as NDJSON
//      (secret columns hashed, dropped columns left out):
//      - straight into the table when nothing has to be merged (issue 19: the staging copy and its
//        INSERT … SELECT cost twice the load): an append table's new rows, read from above the
//        highest id BigQuery already has, and any table whose BigQuery copy is empty (the first
//        sync, a refill), in load jobs of 100,000 rows run one after another while the next
//        job's rows are read and spooled to a private temporary file (loadInJobs). Each job is
//        atomic, so a retry finds a prefix of the read and reads from above it (append) or merges
//        through staging (a non-empty table);
//      - otherwise in ONE load job into a staging table, then applied with one statement: merge
//        tables MERGE
//        (UPDATE + INSERT), and a full sync MERGEs with DELETE for keys the source no longer has;
//   3. drop the staging table, whatever happened.
// Every step is idempotent, so a re-run of the same window (after a crash anywhere) gives the same
// table. The caller commits the returned cursor only after this resolves, i.e. after BigQuery has the rows.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  dropTable,
  ensureDataset,
  loadNdjson,
  qualifiedName,
  quoteIdent,
  readTableSchema,
  runQuery,
  tableExists,
} from '../../connectors/bigquery/client.js';
import type { RowsAfter } from '../../connectors/app-db/source.js';
import { instantMs, instantText } from '../../connectors/app-db/instant.js';
import { ConfigError, ValidationError } from '../../errors.js';
import { syncChanges } from './change-sync.js';
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
import { applyPrivacy } from './privacy.js';
import { compareSchemas, incompatibleSchemaError, sourceColumnsToTarget, type TargetColumn } from './schema-mapping.js';
import type { AppDbTable } from './definition.js';
import type { TrackingRow } from './tracking.js';

export { stagingTableName, type SyncMode, type TableSyncContext, type TableSyncOutcome } from './sync-parts.js';

/**
 * Staging column marking the key of a row the full sync rejected: the MERGE neither updates nor
 * deletes that key, so BigQuery keeps the row's last good version while the source still has it.
 */
const REJECTED_KEY = '_learnsync_rejected';

/** Rows per load job of a direct load: big enough for few jobs (BigQuery counts load jobs per table
 * and day), small enough that reading the next job's rows overlaps most of the previous job's load. */
export const DIRECT_LOAD_ROWS_PER_JOB = 100_000;

/** Spool file buffers: large, so an upload needs few event-loop turns while the next job is read. */
const SPOOL_BUFFER_BYTES = 1 << 20;

/**
 * A direct load as a sequence of load jobs of about `rowsPerJob` rows each, in read order. BigQuery
 * starts a load job only once its upload is complete, so one job would read everything first and
 * load after: here the first job streams straight from the read (a small table is one job, as
 * before), and from its end on, each following job's rows are read, converted and spooled to a
 * private temporary file (0600 in a 0700 folder, removed after its job; memory stays flat) while the
 * previous job loads. Jobs run one after another, never two at once, so the table always holds a
 * prefix of the read: a crash between jobs leaves rows the next sync reads past (an append table's
 * highest id) or merges through staging (a table no longer empty).
 */
async function loadInJobs(
  lines: AsyncIterable<string>,
  rowsWritten: () => number,
  rowsPerJob: number,
  load: (body: Readable, rows: () => number, loadedBefore: number, job: number) => Promise<void>,
): Promise<void> {
  const it = lines[Symbol.asyncIterator]();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'learnsync-bq-load-'));
  let exhausted = false;
  let spooled = 0;
  const spool = async (): Promise<{ file: string; rows: number }> => {
    const file = path.join(dir, `job-${spooled++}.ndjson`);
    const out = createWriteStream(file, { mode: 0o600, highWaterMark: SPOOL_BUFFER_BYTES });
    const start = rowsWritten();
    try {
      while (!exhausted && rowsWritten() - start < rowsPerJob) {
        const next = await it.next();
        if (next.done) exhausted = true;
        else if (!out.write(next.value)) await once(out, 'drain');
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    return { file, rows: rowsWritten() - start };
  };
  const spoolNext = () => {
    const p = spool();
    p.catch(() => {}); // awaited later; a failing read must not surface as unhandled first
    return p;
  };
  let following: Promise<{ file: string; rows: number }> | undefined;
  let firstRows = 0;
  async function* firstJob(): AsyncIterable<string> {
    const start = rowsWritten();
    while (!exhausted && rowsWritten() - start < rowsPerJob) {
      const next = await it.next();
      if (next.done) exhausted = true;
      else yield next.value;
    }
    firstRows = rowsWritten() - start;
    // The upload is complete: read the next job's rows while BigQuery loads this one.
    if (!exhausted) following = spoolNext();
  }
  try {
    await load(Readable.from(firstJob()), () => firstRows, 0, 0);
    let loaded = firstRows;
    for (let job = 1; following; job++) {
      const batch = await following;
      if (batch.rows === 0) break;
      following = exhausted ? undefined : spoolNext();
      const body = createReadStream(batch.file, { highWaterMark: SPOOL_BUFFER_BYTES });
      await load(body, () => batch.rows, loaded, job);
      await rm(batch.file, { force: true });
      loaded += batch.rows;
    }
  } finally {
    await it.return?.();
    await rm(dir, { recursive: true, force: true });
  }
}

interface ReconciledSchema {
  schema: TargetColumn[];
  added: string[];
  /** BigQuery columns removed because APP_DB_DROP_COLUMNS lists them now. */
  dropped: string[];
  /** Columns whose values were cleared because they became secret (or stopped being): refilled by a full read. */
  reset: string[];
  /** The table did not exist and was created now. */
  created: boolean;
}

/**
 * Makes BigQuery's table match the source's columns and the privacy settings as far as it can:
 * creates it, adds new columns, drops columns APP_DB_DROP_COLUMNS lists now, and clears columns
 * whose secret status changed since the last sync (nulled, or dropped and re-added when their type
 * changes), so no clear-text value of a secret column stays there. Returns the columns it has now.
 */
async function reconcileSchema(
  ctx: TableSyncContext,
  spec: AppDbTable,
  desired: TargetColumn[],
  secretNow: ReadonlySet<string>,
): Promise<ReconciledSchema> {
  const { target } = ctx;
  const name = qualifiedName(target, spec.name);
  if (!(await tableExists(target, spec.name))) {
    const cols = desired
      .map((c) => `${quoteIdent(c.name)} ${c.type}${c.name === spec.key ? ' NOT NULL' : ''}`)
      .join(', ');
    await runQuery(target, `CREATE TABLE IF NOT EXISTS ${name} (${cols})`, undefined, `create ${spec.name}`);
    return { schema: desired, added: [], dropped: [], reset: [], created: true };
  }
  // Verify what we believe against what BigQuery answers (metadata can miss ALTERed columns on the emulator).
  let actual = (await readTableSchema(target, spec.name)) as TargetColumn[];
  const believed = ctx.tracking?.believed_schema;
  if (believed && compareSchemas(actual, believed).add.length + compareSchemas(believed, actual).add.length > 0) {
    ctx.logger?.warn(
      { table: spec.name, believed, actual },
      "BigQuery schema differs from the one recorded in bq_sync_tracking; using BigQuery's",
    );
  }
  const lower = (n: string) => n.toLowerCase();
  const droppedNow = new Set((ctx.privacy.dropColumns[spec.name] ?? []).map(lower));
  // Unknown (synced before this was recorded, or no tracking row): treat the secret columns as possibly clear.
  const secretBefore = new Set((ctx.tracking?.secret_columns ?? []).map(lower));
  const known = ctx.tracking?.secret_columns != null;
  const secretLower = new Set([...secretNow].map(lower));
  const dropped: string[] = [];
  const reset: string[] = [];
  for (const c of actual) {
    const n = lower(c.name);
    if (n === lower(spec.key)) continue;
    if (droppedNow.has(n)) {
      await runQuery(target, `ALTER TABLE ${name} DROP COLUMN ${quoteIdent(c.name)}`, undefined, `drop ${c.name}`);
      dropped.push(c.name);
      continue;
    }
    const isSecret = secretLower.has(n);
    if (known ? isSecret === secretBefore.has(n) : !isSecret) continue;
    const want = desired.find((d) => lower(d.name) === n);
    if (want && want.type === c.type) {
      await runQuery(
        target,
        `UPDATE ${name} SET ${quoteIdent(c.name)} = NULL WHERE TRUE`,
        undefined,
        `clear ${c.name}`,
      );
    } else {
      await runQuery(target, `ALTER TABLE ${name} DROP COLUMN ${quoteIdent(c.name)}`, undefined, `drop ${c.name}`);
    }
    reset.push(c.name);
  }
  actual = actual.filter(
    (c) =>
      !dropped.includes(c.name) &&
      !(reset.includes(c.name) && desired.find((d) => lower(d.name) === lower(c.name))?.type !== c.type),
  );
  const changes = compareSchemas(actual, desired);
  if (changes.incompatible.length) throw incompatibleSchemaError(spec.name, changes);
  for (const c of changes.add) {
    await runQuery(
      target,
      `ALTER TABLE ${name} ADD COLUMN ${quoteIdent(c.name)} ${c.type}`,
      undefined,
      `add column ${spec.name}.${c.name}`,
    );
  }
  return {
    schema: [...actual, ...changes.add],
    added: changes.add.map((c) => c.name).filter((n) => !reset.includes(n)),
    dropped,
    reset,
    created: false,
  };
}

/**
 * Why the tracking's cursor no longer describes BigQuery, or null: the table had to be created
 * although rows were synced (dropped, a dataset deleted, a fresh emulator), or it holds fewer rows
 * than it held after the last sync. Either way the incremental would never refill it.
 */
async function targetLost(ctx: TableSyncContext, spec: AppDbTable, created: boolean): Promise<string | null> {
  const t = ctx.tracking;
  const synced = t?.last_synced_row_id != null || t?.last_cursor != null;
  if (!synced) return null;
  const table = `BigQuery table ${ctx.target.datasetId}.${spec.name}`;
  if (created) return `${table} did not exist although bq_sync_tracking says rows were synced`;
  if (t?.target_rows == null) return null;
  const have = await countRows(ctx, spec.name);
  return have < Number(t.target_rows)
    ? `${table} holds ${have} rows but held ${t.target_rows} after the last sync`
    : null;
}

/**
 * Nothing to do: no row after the cursor, and for merge tables no row newer than the cursor nor a
 * new one at exactly the cursor's instant (the >= read would otherwise re-merge those every run).
 */
async function nothingNew(ctx: TableSyncContext, spec: AppDbTable, after: RowsAfter | undefined): Promise<boolean> {
  const atOrAfter = await ctx.source.count(spec.name, after);
  if (atOrAfter === 0) return true;
  const known = ctx.tracking?.last_cursor_rows;
  if (!after?.inclusive || known == null) return false;
  return atOrAfter === Number(known) && (await ctx.source.count(spec.name, { ...after, inclusive: false })) === 0;
}

/** Where an incremental read starts: ids above the last one, or cursor instants at or after the last one. */
export function incrementalAfter(spec: AppDbTable, t: TrackingRow | undefined): RowsAfter | undefined {
  if (spec.mode === 'append')
    return t?.last_synced_row_id != null
      ? { column: spec.key, value: Number(t.last_synced_row_id), inclusive: false }
      : undefined;
  // >=: rows written in the same instant as the cursor after the last sync are not missed;
  // MERGE makes the overlap harmless. Compared as instants, never as text (instant.ts); a stored
  // cursor that is no instant (written by an older version) reads everything again.
  const at = instantMs(t?.last_cursor);
  return at !== null ? { column: spec.cursorColumn, value: at, inclusive: true, instant: true } : undefined;
}

function rowsAfter(ctx: TableSyncContext, spec: AppDbTable): RowsAfter | undefined {
  return ctx.syncMode === 'full' ? undefined : incrementalAfter(spec, ctx.tracking);
}

interface LoadPlan {
  /** Load straight into the table (nothing to merge), else through staging. */
  direct: boolean;
  /** Where the read starts (undefined: every row). */
  after: RowsAfter | undefined;
  /** Rows BigQuery held before this sync, when known. */
  rowsBefore: number | null;
  /** BigQuery's highest id when it is above the stored cursor (a load whose cursor never committed). */
  repairedRowId: number | null;
}

/**
 * Whether this sync needs a MERGE (staging) or can load straight into the table: an incremental
 * append reads from above max(stored cursor, BigQuery's highest id), so a load that landed without
 * its cursor being committed is never appended twice; a table whose BigQuery copy is empty has
 * nothing to merge with, nothing to delete and no rejected row's old version to keep.
 */
async function planLoad(ctx: TableSyncContext, spec: AppDbTable, created: boolean): Promise<LoadPlan> {
  const after = rowsAfter(ctx, spec);
  if (created) return { direct: true, after, rowsBefore: 0, repairedRowId: null };
  if (ctx.syncMode === 'incremental' && spec.mode === 'append') {
    const r = await runQuery<{ m: unknown; n: unknown }>(
      ctx.target,
      `SELECT MAX(${quoteIdent(spec.key)}) AS m, COUNT(*) AS n FROM ${qualifiedName(ctx.target, spec.name)}`,
      undefined,
      `highest ${spec.key} of ${spec.name}`,
    );
    const rowsBefore = Number(r.rows[0]?.n ?? 0);
    const have = r.rows[0]?.m;
    if (have === null || have === undefined) return { direct: true, after, rowsBefore, repairedRowId: null };
    const highest = Number(have);
    return after && Number(after.value) >= highest
      ? { direct: true, after, rowsBefore, repairedRowId: null }
      : {
          direct: true,
          after: { column: spec.key, value: highest, inclusive: false },
          rowsBefore,
          repairedRowId: highest,
        };
  }
  const first = ctx.syncMode === 'full' || after === undefined;
  if (first && (await countRows(ctx, spec.name)) === 0)
    return { direct: true, after, rowsBefore: 0, repairedRowId: null };
  return { direct: false, after, rowsBefore: null, repairedRowId: null };
}

export async function syncTable(given: TableSyncContext, spec: AppDbTable): Promise<TableSyncOutcome> {
  let ctx = given;
  const { target, source } = ctx;
  const sourceColumns = await source.columns(spec.name);
  if (sourceColumns.length === 0)
    throw new ValidationError(`app-db table ${spec.name} does not exist in ${source.description}`);
  const names = new Set(sourceColumns.map((c) => c.name));
  for (const required of [spec.key, spec.cursorColumn]) {
    if (!names.has(required))
      throw new ValidationError(
        `app-db table ${spec.name} has no column ${required}, which its ${spec.mode} sync needs`,
      );
  }
  const privacy = applyPrivacy(ctx.privacy, spec.name, sourceColumnsToTarget(source.dialect, sourceColumns));
  const desired = privacy.columns;

  await ensureDataset(target);
  const { schema, added, dropped, reset, created } = await reconcileSchema(ctx, spec, desired, privacy.secret);
  const lost = await targetLost(ctx, spec, created);
  if (lost && ctx.syncMode !== 'full') {
    ctx.logger?.warn({ table: spec.name, reason: lost }, 'cursor reset: reading the whole table into BigQuery again');
    ctx = { ...ctx, syncMode: 'full' };
  }
  if (reset.length && ctx.syncMode !== 'full') {
    // Cleared columns are refilled (hashed, or in clear when no longer secret) by reading every row.
    ctx.logger?.warn(
      { table: spec.name, columns: reset },
      'secret columns changed since the last sync: their BigQuery values were cleared; reading the whole table',
    );
    ctx = { ...ctx, syncMode: 'full' };
  }

  // Change capture: the triggers are in place before the position is taken, the log is trimmed up
  // to the committed position, and an incremental sync with a position reads the log instead.
  const log = ctx.capture === 'cdc' ? (ctx.changeLog ?? source.changeLog) : undefined;
  if (ctx.capture === 'cdc' && !log)
    throw new ConfigError(
      `APP_DB_CAPTURE=cdc needs a change log; ${source.description} (${source.dialect}) has none: ` +
        'set APP_DB_CAPTURE=snapshot for it',
    );
  const storedSeq = ctx.tracking?.last_change_seq != null ? Number(ctx.tracking.last_change_seq) : null;
  let changesUpto: number | null = null;
  let fullBecause: string | null = null;
  if (log) {
    // The write lock on the app's file only when a trigger is missing, not on every sync.
    if (!(await log.installed(spec.name))) await log.install(spec.name, spec.key);
    if (storedSeq !== null) await log.trim(spec.name, storedSeq);
    changesUpto = await log.highest();
    const why =
      storedSeq !== null && ctx.syncMode !== 'full'
        ? await log.needsFullSync?.(spec.name, storedSeq, changesUpto)
        : null;
    if (why) {
      fullBecause = why;
      ctx.logger?.warn({ table: spec.name, reason: why }, 'change log: reading the whole table into BigQuery again');
      ctx = { ...ctx, syncMode: 'full' };
    }
  }

  const plan = await planLoad(ctx, spec, created);
  const after = plan.after;
  const outcome: TableSyncOutcome = {
    table: spec.name,
    syncMode: ctx.syncMode,
    read: 0,
    rejected: 0,
    rejectReason: null,
    appended: 0,
    merged: 0,
    deleted: 0,
    lastRowId:
      plan.repairedRowId ?? (ctx.tracking?.last_synced_row_id != null ? Number(ctx.tracking.last_synced_row_id) : null),
    lastCursor: ctx.tracking?.last_cursor ?? null,
    lastCursorRows: ctx.tracking?.last_cursor_rows != null ? Number(ctx.tracking.last_cursor_rows) : null,
    schema,
    columnsAdded: added,
    columnsDropped: dropped,
    columnsReset: reset,
    secretColumns: [...privacy.secret],
    targetRows: ctx.tracking?.target_rows != null ? Number(ctx.tracking.target_rows) : null,
    reset: lost ? `cursor reset: ${lost}` : fullBecause ? `full sync: ${fullBecause}` : null,
    loadMs: 0,
    applyMs: 0,
    lastChangeSeq: changesUpto,
  };
  if (log && storedSeq !== null && ctx.syncMode === 'incremental') {
    await syncChanges(ctx, spec, log, desired, privacy.secret, storedSeq, changesUpto!, outcome);
    outcome.lastChangeSeq = Math.max(storedSeq, changesUpto!);
    return outcome;
  }
  if (ctx.syncMode === 'incremental' && (await nothingNew(ctx, spec, after))) return outcome;

  const staging = stagingTableName(spec.name);
  let maxKey: unknown = null;
  let maxCursor: number | null = null;
  let rowsAtMaxCursor = 0;
  let written = 0;
  const columns = desired.map((c) => c.name);
  const keyType = desired.find((c) => c.name === spec.key)?.type ?? 'INT64';
  const hashKey = ctx.privacy.hashKey;
  async function* ndjson(): AsyncIterable<string> {
    let chunk: string[] = [];
    for await (const row of source.rows(spec.name, {
      columns,
      after,
      orderBy: spec.mode === 'append' || ctx.syncMode === 'full' ? spec.key : spec.cursorColumn,
      key: spec.key,
    })) {
      outcome.read++;
      maxKey = laterKey(maxKey, row[spec.key]);
      const cursorAt = instantMs(row[spec.cursorColumn]);
      if (cursorAt !== null) {
        if (cursorAt === maxCursor) rowsAtMaxCursor++;
        else if (maxCursor === null || cursorAt > maxCursor) [maxCursor, rowsAtMaxCursor] = [cursorAt, 1];
      }
      const converted = convertRow(desired, privacy.secret, hashKey, spec.key, row);
      if ('reason' in converted) {
        await rejectRow(ctx, spec, outcome, row, converted, spec.mode === 'merge' ? cursorAt : null, columns, privacy);
        const key = ctx.syncMode === 'full' && !plan.direct ? keyValue(row[spec.key], keyType) : null;
        if (key !== null) {
          written++;
          chunk.push(JSON.stringify({ [spec.key]: key, [REJECTED_KEY]: true }));
        }
        continue;
      }
      written++;
      chunk.push(JSON.stringify(converted.out));
      if (chunk.length >= LINES_PER_CHUNK) {
        yield chunk.join('\n') + '\n';
        chunk = [];
        ctx.onProgress?.(outcome.read);
      }
    }
    if (chunk.length) yield chunk.join('\n') + '\n';
    await ctx.rejects?.flush();
  }

  await ctx.rejects?.beginWindow(after);
  const startedLoad = Date.now();
  if (plan.direct) {
    const before = plan.rowsBefore;
    await loadInJobs(
      ndjson(),
      () => written,
      ctx.directLoadRowsPerJob ?? DIRECT_LOAD_ROWS_PER_JOB,
      async (body, sent, loadedBefore, job) => {
        const load = await loadNdjson(target, spec.name, body, { schema, writeDisposition: 'WRITE_APPEND' });
        const rows = sent();
        // Real BigQuery reports the rows the job loaded; the emulator, the table's rows after an append.
        const tableRows = before === null ? null : before + loadedBefore + rows;
        if (load.outputRows !== rows && load.outputRows !== tableRows) {
          throw new Error(
            `load job ${load.jobId} loaded ${load.outputRows} rows of ${spec.name} but ${rows} were sent`,
          );
        }
        await ctx.afterLoadJob?.(spec.name, job);
      },
    );
    outcome.loadMs = Date.now() - startedLoad;
    // Counted as the staged path counts them: an append table's rows appended, a merge table's merged.
    if (spec.mode === 'append') outcome.appended = written;
    else outcome.merged = written;
    // The test seam of the staged path: a crash here leaves rows whose cursor never committed, which
    // the next sync reads past (BigQuery's highest id) or merges through staging (a non-empty table).
    await ctx.beforeApply?.(spec.name);
    outcome.targetRows = before !== null ? before + written : await countRows(ctx, spec.name);
  } else {
    try {
      // A staging table left by a worker that died mid-sync goes first (its columns may be out of date).
      await dropTable(target, staging);
      const stagingSchema = ctx.syncMode === 'full' ? [...desired, { name: REJECTED_KEY, type: 'BOOL' }] : desired;
      const load = await loadNdjson(target, staging, ndjson(), {
        schema: stagingSchema,
        writeDisposition: 'WRITE_TRUNCATE',
      });
      if (load.outputRows !== written) {
        throw new Error(
          `load job ${load.jobId} loaded ${load.outputRows} rows of ${spec.name} but ${written} were sent`,
        );
      }
      outcome.loadMs = Date.now() - startedLoad;
      await ctx.beforeApply?.(spec.name);
      const startedApply = Date.now();
      // Marks the stage for bench:chaos's kills inside a MERGE (LOG_LEVEL=debug).
      ctx.logger?.debug({ table: spec.name }, 'applying the staged rows to the BigQuery table');
      await applyStaged(ctx, spec, staging, desired, outcome);
      outcome.applyMs = Date.now() - startedApply;
      outcome.targetRows = await countRows(ctx, spec.name);
    } finally {
      await dropTable(target, staging).catch((err: unknown) =>
        ctx.logger?.warn(
          { table: staging, err: (err as Error).message },
          'could not drop staging table; the next sync replaces it',
        ),
      );
    }
  }

  if (maxKey !== null && (ctx.syncMode === 'full' || spec.mode === 'append')) outcome.lastRowId = Number(maxKey);
  if (maxCursor !== null && spec.mode === 'merge') {
    // Every row >= the previous cursor was read, so the rows counted at the maximum are all of them.
    // A full sync read every row: its maximum is the cursor, whatever was stored (that repairs it).
    const previous = instantMs(outcome.lastCursor);
    const next = ctx.syncMode === 'full' || previous === null ? maxCursor : Math.max(previous, maxCursor);
    outcome.lastCursor = instantText(next);
    outcome.lastCursorRows = next === maxCursor ? rowsAtMaxCursor : outcome.lastCursorRows;
  }
  return outcome;
}

async function applyStaged(
  ctx: TableSyncContext,
  spec: AppDbTable,
  staging: string,
  columns: TargetColumn[],
  outcome: TableSyncOutcome,
): Promise<void> {
  const { target } = ctx;
  const T = qualifiedName(target, spec.name);
  const S = qualifiedName(target, staging);
  const key = quoteIdent(spec.key);
  const cols = columns.map((c) => quoteIdent(c.name));
  if (ctx.syncMode === 'incremental' && spec.mode === 'append') {
    // Only ids above what BigQuery has: an earlier attempt that appended but never committed its
    // cursor adds nothing twice.
    const r = await runQuery(
      target,
      `INSERT INTO ${T} (${cols.join(', ')}) SELECT ${cols.map((c) => `S.${c}`).join(', ')} FROM ${S} S
        WHERE S.${key} > (SELECT COALESCE(MAX(${key}), -9223372036854775808) FROM ${T})`,
      undefined,
      `append ${spec.name}`,
    );
    outcome.appended = r.affectedRows;
    return;
  }
  const full = ctx.syncMode === 'full';
  if (full) {
    const d = await runQuery<{ n: number }>(
      target,
      `SELECT COUNT(*) AS n FROM ${T} T WHERE NOT EXISTS (SELECT 1 FROM ${S} S WHERE S.${key} = T.${key})`,
      undefined,
      `keys removed from ${spec.name}`,
    );
    outcome.deleted = Number(d.rows[0]?.n ?? 0);
  }
  const updates = cols.filter((c) => c !== key).map((c) => `${c} = S.${c}`);
  // A full sync's staging also holds the keys of rejected rows: matched, so never deleted, and left as they are.
  const good = full ? ` AND S.${quoteIdent(REJECTED_KEY)} IS NULL` : '';
  const r = await runQuery(
    target,
    `MERGE ${T} T USING ${S} S ON T.${key} = S.${key}
     ${updates.length ? `WHEN MATCHED${good} THEN UPDATE SET ${updates.join(', ')}` : ''}
     WHEN NOT MATCHED${good} THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `S.${c}`).join(', ')})
     ${full ? 'WHEN NOT MATCHED BY SOURCE THEN DELETE' : ''}`,
    undefined,
    `merge ${spec.name}`,
  );
  outcome.merged = Math.max(0, r.affectedRows - outcome.deleted);
}
