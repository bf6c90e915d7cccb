// SQLite change capture (APP_DB_CAPTURE=cdc, opt-in): triggers on each synced table append to a
// change log in the application's own file — (seq, table, op, key, at) — so an update that does not
// touch updated_at, an edit of an "insert-only" row and a delete are all seen by the next
// incremental sync, not only by the daily full sync. SQLite has one writer at a time, so the log's
// AUTOINCREMENT seq is commit order and never reused after a trim. learnsync reads the keys changed
// after the position it stored (with the data it covers, in the warehouse), looks their current rows
// up (absent: deleted) and trims only what a committed position covers.
import { ConfigError } from '../../errors.js';
import { openSqlite, type SqliteDatabase } from '../sqlite-binding.js';
import { sourceIdent, type SourceColumn, type SqliteChangeLog } from './source.js';

export const CHANGE_LOG_TABLE = 'learnsync_changes';
export type { ChangedRow, SqliteChangeLog } from './source.js';

const triggerName = (table: string, op: string) => `learnsync_cdc_${table}_${op}`;

const logExists = (d: SqliteDatabase) =>
  Boolean(d.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(CHANGE_LOG_TABLE));

export function sqliteChangeLog(file: string, columnsOf: (table: string) => Promise<SourceColumn[]>): SqliteChangeLog {
  let db: SqliteDatabase | undefined;
  const writable = () => {
    if (db) return db;
    try {
      db = openSqlite(file, { fileMustExist: true });
      db.pragma('busy_timeout = 10000');
    } catch (err) {
      throw new ConfigError(
        `APP_DB_CAPTURE=cdc needs write access to APP_DB_SQLITE_PATH ${file} for its change-log triggers ` +
          `(${(err as Error).message}); give the worker write access or set APP_DB_CAPTURE=snapshot`,
      );
    }
    return db;
  };
  const T = sourceIdent(CHANGE_LOG_TABLE);
  return {
    async install(table, key) {
      const d = writable();
      const t = sourceIdent(table);
      const k = sourceIdent(key);
      if ((await columnsOf(table)).length === 0) throw new ConfigError(`app-db table ${table} does not exist`);
      const name = table.replace(/'/g, "''");
      d.exec(`BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS ${T} (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL,
          op TEXT NOT NULL CHECK (op IN ('I', 'U', 'D')), key,
          at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
        CREATE INDEX IF NOT EXISTS learnsync_changes_tbl_seq ON ${T} (tbl, seq);
        CREATE TRIGGER IF NOT EXISTS ${sourceIdent(triggerName(table, 'i'))} AFTER INSERT ON ${t} BEGIN
          INSERT INTO ${T} (tbl, op, key) VALUES ('${name}', 'I', NEW.${k}); END;
        CREATE TRIGGER IF NOT EXISTS ${sourceIdent(triggerName(table, 'u'))} AFTER UPDATE ON ${t} BEGIN
          INSERT INTO ${T} (tbl, op, key) SELECT '${name}', 'D', OLD.${k} WHERE OLD.${k} IS NOT NEW.${k};
          INSERT INTO ${T} (tbl, op, key) VALUES ('${name}', 'U', NEW.${k}); END;
        CREATE TRIGGER IF NOT EXISTS ${sourceIdent(triggerName(table, 'd'))} AFTER DELETE ON ${t} BEGIN
          INSERT INTO ${T} (tbl, op, key) VALUES ('${name}', 'D', OLD.${k}); END;
        COMMIT;`);
    },
    async highest() {
      const d = writable();
      if (!logExists(d)) return 0;
      return Number((d.prepare(`SELECT COALESCE(MAX(seq), 0) AS m FROM ${T}`).get() as { m: number }).m);
    },
    async *changedRows(table, key, columns, afterSeq, uptoSeq) {
      const d = writable();
      const k = sourceIdent(key);
      const cols = columns.map((c) => `t.${sourceIdent(c)}`).join(', ');
      const stmt = d.prepare(
        `SELECT c.k AS learnsync_changed_key, t.${k} IS NOT NULL AS learnsync_present, ${cols}
           FROM (SELECT DISTINCT key AS k FROM ${T} WHERE tbl = ? AND seq > ? AND seq <= ?) c
           LEFT JOIN ${sourceIdent(table)} t ON t.${k} = c.k ORDER BY c.k`,
      );
      stmt.safeIntegers(true);
      let n = 0;
      for (const r of stmt.iterate(table, afterSeq, uptoSeq) as Iterable<Record<string, unknown>>) {
        const { learnsync_changed_key: changed, learnsync_present: present, ...row } = r;
        yield { key: changed, row: Number(present) ? row : null };
        if (++n % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async trim(table, uptoSeq) {
      const d = writable();
      if (!logExists(d)) return 0;
      return d.prepare(`DELETE FROM ${T} WHERE tbl = ? AND seq <= ?`).run(table, uptoSeq).changes;
    },
    async installed(table) {
      const d = writable();
      const r = d
        .prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)`)
        .get(triggerName(table, 'i'), triggerName(table, 'u'), triggerName(table, 'd')) as { n: number };
      return r.n === 3;
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}
