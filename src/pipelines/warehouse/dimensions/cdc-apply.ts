// Change data capture → SCD2 (issue 18): a batch of committed source transactions becomes dimension
// versions in one warehouse transaction, together with the slot position it covers.
//
// Validity: each committed transaction that changes a key's tracked columns opens a version valid
// from the transaction's commit time (several changes of a key inside one transaction are one
// change: nobody could see the states in between); a delete closes the current version at its
// commit time; a TRUNCATE closes every current version. A change that leaves the tracked columns
// as they were opens nothing (as in the snapshot merge). Rows the spec's rejectReason refuses go to
// etl_rejects and keep the last good version. An unchanged TOASTed column (pgoutput sends no value)
// keeps the source row's previous value — the last one seen in this batch, else the warehouse's
// current version; with REPLICA IDENTITY FULL the decoder fills it from the old row itself.
// Relations that gain columns are fine: only the mapped columns are read; a mapped column a
// relation lacks is treated like an unchanged value.
import type pg from 'pg';
import type { CommittedTransaction } from '../../../connectors/postgres-cdc/index.js';
import { applyWithPosition, type BatchCounts, type FamilyCounts } from '../../../runtime/cdc/capture.js';
import { DIM_LEARNER, DIM_TENANT, type DimensionSpec } from './specs.js';

export interface CdcTable {
  /** schema.table on the source. */
  source: string;
  spec: DimensionSpec;
  /** Source column → the dimension stage's column. */
  columns: Readonly<Record<string, string>>;
}

export const CDC_TABLES: readonly CdcTable[] = [
  {
    source: 'platform.tenants',
    spec: DIM_TENANT,
    columns: {
      tenant_id: 'tenant_id',
      name: 'tenant_name',
      region: 'region',
      plan: 'plan',
      is_active: 'is_active',
      created_at: 'created_at',
      updated_at: 'updated_at',
    },
  },
  {
    source: 'platform.learners',
    spec: DIM_LEARNER,
    columns: {
      learner_id: 'learner_id',
      tenant_id: 'tenant_id',
      grade_level: 'grade_level',
      preferred_language: 'preferred_language',
      is_active: 'is_active',
      created_at: 'created_at',
      updated_at: 'updated_at',
    },
  },
];

export interface ApplyCounts extends BatchCounts {
  toastFilled: number;
}

type Row = Record<string, unknown>;
type Event =
  | { kind: 'truncate'; at: string }
  | { kind: 'final'; at: string; key: string; row: Row | null; lsn: string; reason?: string | null };

const norm = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
const UTC_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Applies `batch` inside `tx` with the stored position (the caller commits, then acknowledges the slot). */
export async function applyCdcBatch(
  tx: pg.PoolClient,
  source: string,
  batch: readonly CommittedTransaction[],
  tables: readonly CdcTable[] = CDC_TABLES,
): Promise<ApplyCounts> {
  let toastFilled = 0;
  const counts = await applyWithPosition(tx, source, batch, async (fresh) => {
    const c = await applyDimensions(tx, fresh, tables);
    toastFilled = c.toastFilled;
    return c;
  });
  return { ...counts, toastFilled };
}

/** The dimension versions of transactions after the stored position (applyWithPosition filtered them). */
export async function applyDimensions(
  tx: pg.PoolClient,
  fresh: readonly CommittedTransaction[],
  tables: readonly CdcTable[] = CDC_TABLES,
): Promise<FamilyCounts & { toastFilled: number }> {
  const counts = { opened: 0, closed: 0, rejected: 0, toastFilled: 0 };
  for (const table of tables) await applyTable(tx, table, fresh, counts);
  return counts;
}

async function applyTable(
  tx: pg.PoolClient,
  t: CdcTable,
  batch: readonly CommittedTransaction[],
  counts: FamilyCounts & { toastFilled: number },
): Promise<void> {
  const { spec } = t;
  const bk = spec.businessKey;
  const srcKey = Object.keys(t.columns).find((c) => t.columns[c] === bk)!;
  const stageCols = spec.stage.columns.map(([n]) => n);
  const types = new Map(spec.stage.columns);
  const touches = (c: CommittedTransaction['changes'][number]) =>
    c.op === 'truncate' ? c.tables!.includes(t.source) : c.table === t.source;
  const keys = new Set<string>();
  for (const txn of batch) {
    for (const c of txn.changes) {
      if (!touches(c) || c.op === 'truncate') continue;
      for (const r of [c.row, c.old]) if (r?.[srcKey] != null) keys.add(String(r[srcKey]));
    }
  }
  if (!keys.size && !batch.some((txn) => txn.changes.some((c) => c.op === 'truncate' && touches(c)))) return;
  // The same lock as the snapshot sync: the two never interleave on one dimension.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dimension:${spec.table}`]);

  // The warehouse's current versions of every key the batch touches.
  const current = await tx.query<Row & { sk: number; from_text: string }>(
    `SELECT ${spec.surrogateKey} AS sk, ${bk}::text AS ${bk}, ${spec.tracked.join(', ')},
            to_char(effective_from AT TIME ZONE 'UTC', ${UTC_US}) AS from_text
       FROM ${spec.table} WHERE is_current AND ${bk} = ANY($1::${types.get(bk)}[])`,
    [[...keys]],
  );
  const toStage = (r: Row): Row => {
    const out: Row = {};
    for (const [src, col] of Object.entries(t.columns)) out[col] = src in r ? r[src] : undefined;
    if (out[bk] != null) out[bk] = String(out[bk]);
    return out;
  };

  // Pass 1: per transaction, the final state of each key, unchanged TOASTed values filled in.
  const seen = new Map<string, Row | null>(current.rows.map((r) => [String(r[bk]), r]));
  const events: Event[] = [];
  for (const txn of batch) {
    const pending = new Map<string, Row | null>();
    let truncated = false;
    for (const c of txn.changes) {
      if (!touches(c)) continue;
      if (c.op === 'truncate') {
        truncated = true;
        pending.clear();
        for (const k of seen.keys()) seen.set(k, null);
        continue;
      }
      const oldKey = c.old?.[srcKey] != null ? String(c.old[srcKey]) : undefined;
      if (c.op === 'delete') {
        if (oldKey !== undefined) {
          pending.set(oldKey, null);
          seen.set(oldKey, null);
        }
        continue;
      }
      const row = toStage(c.row!);
      const key = String(row[bk]);
      if (oldKey !== undefined && oldKey !== key) {
        pending.set(oldKey, null); // the key itself changed: the old one is gone
        seen.set(oldKey, null);
      }
      const prev = pending.has(key) ? pending.get(key) : seen.get(key);
      for (const col of stageCols) {
        if (row[col] !== undefined) continue;
        if (prev && prev[col] !== undefined) counts.toastFilled++;
        row[col] = prev?.[col] ?? null;
      }
      pending.set(key, row);
      seen.set(key, row);
    }
    if (truncated) events.push({ kind: 'truncate', at: txn.commitTime });
    for (const [key, row] of pending) events.push({ kind: 'final', at: txn.commitTime, key, row, lsn: txn.endLsn });
  }

  // Pass 2: the spec's own validation, in SQL, over every new row state.
  const candidates = events.filter((e): e is Extract<Event, { kind: 'final' }> => e.kind === 'final' && !!e.row);
  if (candidates.length) {
    const defs = spec.stage.columns.map(([n, ty]) => `${n} ${ty}`).join(', ');
    const { rows } = await tx.query<{ i: number; reason: string | null }>(
      `SELECT cdc_ord AS i, (${spec.rejectReason}) AS reason
         FROM jsonb_to_recordset($1::jsonb) AS s(cdc_ord int, ${defs})`,
      [JSON.stringify(candidates.map((e, i) => ({ cdc_ord: i, ...mapValues(e.row!) })))],
    );
    for (const r of rows) candidates[r.i]!.reason = r.reason;
  }

  // Pass 3: versions.
  interface KeyState {
    sk?: number;
    row: Row | null;
    sig: string;
    from: string;
    newIdx?: number;
    lastTo?: string;
  }
  const sig = (r: Row) => JSON.stringify(spec.tracked.map((c) => norm(r[c]) ?? null));
  const states = new Map<string, KeyState>(
    current.rows.map((r) => [String(r[bk]), { sk: r.sk, row: r, sig: sig(r), from: r.from_text }]),
  );
  const closeExisting: { k: number; t: string }[] = [];
  const versions: { row: Row; f: string; t: string | null }[] = [];
  const rejects: { reason: string; raw: Row }[] = [];
  let truncateAt: string | undefined;
  const max = (a: string, b: string) => (a > b ? a : b);
  const close = (s: KeyState, at: string) => {
    if (!s.row) return;
    const to = max(at, s.from);
    if (s.sk !== undefined) closeExisting.push({ k: s.sk, t: to });
    else versions[s.newIdx!]!.t = to;
    counts.closed++;
    Object.assign(s, { sk: undefined, newIdx: undefined, row: null, sig: '', lastTo: to });
  };
  for (const e of events) {
    if (e.kind === 'truncate') {
      for (const s of states.values()) close(s, e.at);
      truncateAt ??= e.at;
      continue;
    }
    const s = states.get(e.key) ?? { row: null, sig: '', from: e.at };
    states.set(e.key, s);
    if (!e.row) {
      close(s, e.at);
      continue;
    }
    if (e.reason) {
      rejects.push({ reason: e.reason, raw: { ...mapValues(e.row), source_lsn: e.lsn, source_commit_time: e.at } });
      continue;
    }
    const next = sig(e.row);
    if (s.row && s.sig === next) continue;
    close(s, e.at);
    const from = s.lastTo ? max(e.at, s.lastTo) : e.at;
    versions.push({ row: e.row, f: from, t: null });
    Object.assign(s, { row: e.row, sig: next, from, newIdx: versions.length - 1 });
    counts.opened++;
  }

  // Writes: close before opening (one current version per key at any instant).
  const sk = spec.surrogateKey;
  if (closeExisting.length) {
    await tx.query(
      `UPDATE ${spec.table} d SET effective_to = x.t, is_current = false
         FROM jsonb_to_recordset($1::jsonb) AS x(k int, t timestamptz) WHERE d.${sk} = x.k`,
      [JSON.stringify(closeExisting)],
    );
  }
  if (truncateAt) {
    const r = await tx.query(
      `UPDATE ${spec.table} SET effective_to = greatest($1::timestamptz, effective_from), is_current = false
        WHERE is_current AND NOT (${bk} = ANY($2::${types.get(bk)}[]))`,
      [truncateAt, [...keys]],
    );
    counts.closed += r.rowCount ?? 0;
  }
  if (versions.length) {
    const cols = [bk, ...spec.tracked];
    const defs = cols.map((c) => `${c} ${types.get(c)}`).join(', ');
    await tx.query(
      `INSERT INTO ${spec.table} (${cols.join(', ')}, row_hash, effective_from, effective_to, is_current)
       SELECT ${cols.join(', ')}, md5(row(${spec.tracked.join(', ')})::text), cdc_from, cdc_to, cdc_to IS NULL
         FROM jsonb_to_recordset($1::jsonb) AS x(${defs}, cdc_from timestamptz, cdc_to timestamptz)`,
      [JSON.stringify(versions.map((v) => ({ ...mapValues(v.row), cdc_from: v.f, cdc_to: v.t })))],
    );
  }
  if (rejects.length) {
    await tx.query(
      `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
       SELECT $1, NULL, reason, raw FROM jsonb_to_recordset($2::jsonb) AS x(reason text, raw jsonb)`,
      [`cdc_${spec.job}`, JSON.stringify(rejects)],
    );
    counts.rejected += rejects.length;
  }
}

function mapValues(r: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) if (k !== 'sk' && k !== 'from_text') out[k] = norm(v);
  return out;
}
