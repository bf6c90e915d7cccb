// SQLite application databases, read with better-sqlite3 (12.x, compiled at `npm install`; opened
// through ../sqlite-binding.ts, which picks the build for the running Node). Each row stream opens its
// own read-only connection and walks the statement with `.iterate()`, so a million-row table never
// sits in memory and the stream sees one consistent snapshot.
import { existsSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { openSqlite, type SqliteDatabase } from '../sqlite-binding.js';
import type { Statement } from 'better-sqlite3';
import { instantMs, SQLITE_INSTANT_FUNCTION } from './instant.js';
import { sqliteChangeLog } from './sqlite-changes.js';
import {
  InvalidUtf8,
  sourceIdent,
  type ReadRequest,
  type RowsAfter,
  type SourceColumn,
  type SourceReader,
} from './source.js';

const BATCH_YIELD = 1000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function validUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function whereAfter(after?: RowsAfter): { sql: string; params: unknown[] } {
  if (!after) return { sql: '', params: [] };
  const column = after.instant ? `${SQLITE_INSTANT_FUNCTION}(${sourceIdent(after.column)})` : sourceIdent(after.column);
  return { sql: ` WHERE ${column} ${after.inclusive ? '>=' : '>'} ?`, params: [after.value] };
}

/** Every connection can compare instants exactly as the sync does in JS (one function for both). */
function withInstants(db: SqliteDatabase): SqliteDatabase {
  db.function(SQLITE_INSTANT_FUNCTION, { deterministic: true, safeIntegers: true }, (v: unknown) => instantMs(v));
  return db;
}

export function openSqliteSource(file: string): SourceReader {
  if (!existsSync(file))
    throw new ConfigError(`APP_DB_SQLITE_PATH ${file} does not exist: point it at the application's SQLite file`);
  const open = () => withInstants(openSqlite(file, { readonly: true, fileMustExist: true }));
  const meta = open();
  try {
    // Opening is lazy: the first read is what finds out that the file is not a database. Found here,
    // it is a configuration error (never retried as if it were an outage), naming what to fix.
    meta.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } catch (err) {
    meta.close();
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new ConfigError(
        `APP_DB_SQLITE_PATH ${file} is not a SQLite database (${(err as Error).message}): ` +
          "point it at the application's SQLite file",
      );
    throw err;
  }
  const reader: SourceReader = {
    dialect: 'sqlite',
    description: `sqlite:${file}`,
    changeLog: sqliteChangeLog(file, (table) => reader.columns(table)),
    async columns(table: string): Promise<SourceColumn[]> {
      const rows = meta
        .prepare(`SELECT name, type, "notnull" AS not_null FROM pragma_table_info(?) ORDER BY cid`)
        .all(table) as Array<{ name: string; type: string; not_null: number }>;
      return rows.map((r) => ({ name: r.name, declaredType: r.type, nullable: r.not_null === 0 }));
    },
    async count(table: string, after?: RowsAfter): Promise<number> {
      const w = whereAfter(after);
      const r = meta.prepare(`SELECT COUNT(*) AS n FROM ${sourceIdent(table)}${w.sql}`).get(...w.params) as {
        n: number;
      };
      return r.n;
    },
    async *rows(table: string, req: ReadRequest): AsyncIterable<Record<string, unknown>> {
      const db = open();
      try {
        const w = whereAfter(req.after);
        const cols = req.columns.map(sourceIdent).join(', ');
        const stmt = db.prepare(
          `SELECT ${cols} FROM ${sourceIdent(table)}${w.sql} ORDER BY ${sourceIdent(req.orderBy)}`,
        );
        // Integers as BigInt: above 2^53 a JS number would round them silently.
        stmt.safeIntegers(true);
        const textOf = new Map<string, Statement>();
        let n = 0;
        for (const row of stmt.iterate(...w.params) as Iterable<Record<string, unknown>>) {
          // better-sqlite3 decodes invalid UTF-8 into U+FFFD silently: only then are the bytes read again.
          for (const [column, value] of Object.entries(row)) {
            if (typeof value !== 'string' || !value.includes('\uFFFD') || !req.key) continue;
            let lookup = textOf.get(column);
            if (!lookup) {
              const where = `${sourceIdent(req.key)} = ?`;
              lookup = db.prepare(
                `SELECT CAST(${sourceIdent(column)} AS BLOB) AS b FROM ${sourceIdent(table)} WHERE ${where}`,
              );
              lookup.safeIntegers(true);
              textOf.set(column, lookup);
            }
            const bytes = (lookup.get(row[req.key]) as { b: Buffer } | undefined)?.b;
            if (bytes && !validUtf8(bytes)) row[column] = new InvalidUtf8(bytes);
          }
          yield row;
          // Give timers (heartbeats) a turn now and then: iterate() itself is synchronous.
          if (++n % BATCH_YIELD === 0) await new Promise((r) => setImmediate(r));
        }
      } finally {
        db.close();
      }
    },
    async close() {
      await reader.changeLog?.close();
      meta.close();
    },
  };
  return reader;
}
