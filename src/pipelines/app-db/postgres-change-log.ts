// APP_DB_CAPTURE=cdc on a Postgres app database (issue 18): the capture source `app_db` of the CDC
// runtime, and the change log its incremental syncs read.
//   - Capture: the publication carries every synced table; each committed source transaction's
//     changed keys (I/U/D; an update that changed the key logs D old + U new) are written to
//     app_db_change_log in the warehouse transaction that moves the slot position, so a restart
//     logs nothing twice and loses nothing. A TRUNCATE logs T and a fresh slot logs F for every
//     table: changes before them cannot be replayed key by key, so the table's next sync is full.
//   - Sync: the same contract as the SQLite change log (source.ts) — every key changed in
//     (stored, highest], once, with the row it has NOW in the app database (absent: deleted). Current
//     rows, not logged values, so applying a range twice gives the same BigQuery table, and the
//     initial copy needs no exported snapshot: any full read taken after the slot exists is
//     corrected by the keys logged after it. The log is trimmed only up to a committed position.
import type pg from 'pg';
import type { CommittedTransaction } from '../../connectors/postgres-cdc/index.js';
import type { Pool } from '../../connectors/postgres.js';
import type { SourceReader, SqliteChangeLog } from '../../connectors/app-db/source.js';
import { ConfigError } from '../../errors.js';
import { captureStarted, type CaptureSource } from '../../runtime/cdc/capture.js';
import { APP_DB_TABLES, type AppDbTable } from './definition.js';

/** The capture source's name: cdc_slot_state.source, workflow cdc-app_db, `learnsync cdc start app_db`. */
export const APP_DB_CAPTURE_SOURCE = 'app_db';

/** Keys looked up in the app database per query. */
const KEYS_PER_LOOKUP = 5000;

const keyText = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

interface LogRow {
  table_name: string;
  op: 'I' | 'U' | 'D' | 'T' | 'F';
  key: string | null;
  lsn: string;
  commit_time: string;
}

export function appDbCaptureSource(opts: {
  url: string;
  schema: string;
  publication: string;
  slot: string;
  tables?: readonly AppDbTable[];
}): CaptureSource {
  const tables = opts.tables ?? APP_DB_TABLES;
  const byRelation = new Map(tables.map((t) => [`${opts.schema}.${t.name}`, t]));
  const insertLog = async (tx: pg.PoolClient, rows: LogRow[]) => {
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO app_db_change_log (source, table_name, op, key, lsn, commit_time)
       SELECT $1, table_name, op, key, lsn::pg_lsn, commit_time
         FROM jsonb_to_recordset($2::jsonb)
           AS x(table_name text, op text, key text, lsn text, commit_time timestamptz)`,
      [APP_DB_CAPTURE_SOURCE, JSON.stringify(rows)],
    );
  };
  return {
    name: APP_DB_CAPTURE_SOURCE,
    url: opts.url,
    publication: opts.publication,
    slot: opts.slot,
    tables: [...byRelation.keys()],
    setting: 'APP_DB_CAPTURE',
    async initialCopy(tx) {
      // Nothing to copy here: the marker makes each table's next sync a full one, read after the slot exists.
      const now = new Date().toISOString();
      await insertLog(
        tx,
        tables.map((t) => ({ table_name: t.name, op: 'F', key: null, lsn: '0/0', commit_time: now })),
      );
      return {};
    },
    async apply(tx, fresh: readonly CommittedTransaction[]) {
      const rows: LogRow[] = [];
      for (const txn of fresh) {
        const at = { lsn: txn.endLsn, commit_time: txn.commitTime };
        for (const c of txn.changes) {
          if (c.op === 'truncate') {
            for (const rel of c.tables ?? []) {
              const t = byRelation.get(rel);
              if (t) rows.push({ table_name: t.name, op: 'T', key: null, ...at });
            }
            continue;
          }
          const t = byRelation.get(c.table);
          if (!t) continue;
          const oldKey = keyText(c.old?.[t.key]);
          const newKey = keyText(c.row?.[t.key]);
          if (c.op === 'delete') {
            // No key in the delete (REPLICA IDENTITY NOTHING, a key outside the identity): a full sync tells.
            rows.push(
              oldKey === null
                ? { table_name: t.name, op: 'F', key: null, ...at }
                : { table_name: t.name, op: 'D', key: oldKey, ...at },
            );
            continue;
          }
          if (oldKey !== null && oldKey !== newKey) rows.push({ table_name: t.name, op: 'D', key: oldKey, ...at });
          if (newKey !== null) rows.push({ table_name: t.name, op: c.op === 'insert' ? 'I' : 'U', key: newKey, ...at });
        }
      }
      await insertLog(tx, rows);
      return { opened: rows.length, closed: 0, rejected: 0 };
    },
  };
}

/** The change log of one Postgres app database, read by the app-db sync (see the contract in source.ts). */
export function postgresChangeLog(warehouse: Pool, reader: SourceReader): SqliteChangeLog {
  if (!reader.rowsWithKeys) throw new ConfigError(`${reader.description} cannot look rows up by key`);
  const lookup = reader.rowsWithKeys.bind(reader);
  return {
    async install() {
      throw new ConfigError(
        `APP_DB_CAPTURE=cdc on a Postgres app database reads the changes its capture logs, and the capture ` +
          `is not started: run \`learnsync cdc start ${APP_DB_CAPTURE_SOURCE}\` (it creates the publication and ` +
          'the replication slot, and keeps the change log filled), or set APP_DB_CAPTURE=snapshot',
      );
    },
    installed: () => captureStarted(warehouse, APP_DB_CAPTURE_SOURCE),
    async highest() {
      const r = await warehouse.query<{ m: string }>(
        'SELECT COALESCE(MAX(seq), 0)::text AS m FROM app_db_change_log WHERE source = $1',
        [APP_DB_CAPTURE_SOURCE],
      );
      return Number(r.rows[0]!.m);
    },
    async needsFullSync(table, afterSeq, uptoSeq) {
      const r = await warehouse.query<{ op: string }>(
        `SELECT op FROM app_db_change_log WHERE source = $1 AND table_name = $2 AND seq > $3 AND seq <= $4
            AND op IN ('T', 'F') LIMIT 1`,
        [APP_DB_CAPTURE_SOURCE, table, afterSeq, uptoSeq],
      );
      const op = r.rows[0]?.op;
      return op === 'T'
        ? 'the table was truncated in the source'
        : op === 'F'
          ? 'the capture started with a fresh replication slot: changes before it were not logged'
          : null;
    },
    async *changedRows(table, key, columns, afterSeq, uptoSeq) {
      let lastKey: string | null = null;
      for (;;) {
        const { rows }: { rows: { key: string }[] } = await warehouse.query<{ key: string }>(
          `SELECT DISTINCT key FROM app_db_change_log
            WHERE source = $1 AND table_name = $2 AND seq > $3 AND seq <= $4 AND key IS NOT NULL
              AND ($5::text IS NULL OR key > $5) ORDER BY key LIMIT ${KEYS_PER_LOOKUP}`,
          [APP_DB_CAPTURE_SOURCE, table, afterSeq, uptoSeq, lastKey],
        );
        if (!rows.length) return;
        const keys: string[] = rows.map((r) => r.key);
        const current = new Map<string, Record<string, unknown>>();
        for (const row of await lookup(table, key, columns, keys)) current.set(keyText(row[key])!, row);
        for (const k of keys) yield { key: current.get(k)?.[key] ?? k, row: current.get(k) ?? null };
        lastKey = keys[keys.length - 1]!;
        if (rows.length < KEYS_PER_LOOKUP) return;
      }
    },
    async trim(table, uptoSeq) {
      const r = await warehouse.query(
        'DELETE FROM app_db_change_log WHERE source = $1 AND table_name = $2 AND seq <= $3',
        [APP_DB_CAPTURE_SOURCE, table, uptoSeq],
      );
      return r.rowCount ?? 0;
    },
    async close() {},
  };
}
