// What the app-db sync reads from an application database, whichever engine holds it (SQLite in
// production for the seed's users, Postgres for teams that moved): its tables' columns, a count and
// a stream of rows after a cursor. Readers stream (SQLite `.iterate()`, a Postgres cursor), so
// memory stays flat however large a table is.
import { ValidationError } from '../../errors.js';

export type SourceDialect = 'sqlite' | 'postgres';

export interface SourceColumn {
  name: string;
  /** The declared type as the engine reports it: SQLite's declared type, Postgres's format_type(). */
  declaredType: string;
  nullable: boolean;
}

/**
 * Rows whose `column` is greater than (or equal to, when inclusive) `value`. With `instant`, the
 * column is compared as an instant (see instant.ts) and `value` is epoch milliseconds.
 */
export interface RowsAfter {
  column: string;
  value: string | number;
  inclusive: boolean;
  instant?: boolean;
}

export interface ReadRequest {
  columns: string[];
  after?: RowsAfter;
  orderBy: string;
  /** The table's key column: lets a reader look a row up again (SQLite: the bytes of invalid text). */
  key?: string;
}

/**
 * A text value whose bytes are not valid UTF-8 (SQLite stores whatever it is given). Readers hand
 * it over as is instead of a string with U+FFFD in place of the bad bytes, so the sync can reject
 * the row with its reason and the exact bytes rather than change the text silently.
 */
export class InvalidUtf8 {
  constructor(readonly bytes: Buffer) {}
  toString(): string {
    return `invalid UTF-8 (hex ${this.bytes.toString('hex').slice(0, 80)})`;
  }
}

export interface SourceReader {
  readonly dialect: SourceDialect;
  /** Where it reads, without secrets: for logs and status. */
  readonly description: string;
  /** [] when the table does not exist. */
  columns(table: string): Promise<SourceColumn[]>;
  count(table: string, after?: RowsAfter): Promise<number>;
  rows(table: string, req: ReadRequest): AsyncIterable<Record<string, unknown>>;
  /** SQLite only: the change log of APP_DB_CAPTURE=cdc (sqlite-changes.ts). */
  readonly changeLog?: SqliteChangeLog;
  /**
   * Postgres only: the current rows of `keys` (the key column's values as text; a key with no row
   * is absent from the result), for the change log that logical replication fills.
   */
  rowsWithKeys?(
    table: string,
    key: string,
    columns: string[],
    keys: readonly string[],
  ): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** A changed key and the row it has now; `row` is null when the key no longer exists (deleted). */
export interface ChangedRow {
  key: unknown;
  row: Record<string, unknown> | null;
}

/**
 * The change log of APP_DB_CAPTURE=cdc: SQLite triggers (sqlite-changes.ts), or the keys Postgres
 * logical replication delivered (pipelines/app-db/postgres-change-log.ts).
 */
export interface SqliteChangeLog {
  /** Creates the log and the table's three triggers if missing (needs write access to the file). */
  install(table: string, key: string): Promise<void>;
  /** The highest seq in the log (0 when empty): a sync covers the changes up to it. */
  highest(): Promise<number>;
  /** Every key of `table` changed in (afterSeq, uptoSeq], once, in key order, with its current row. */
  changedRows(
    table: string,
    key: string,
    columns: string[],
    afterSeq: number,
    uptoSeq: number,
  ): AsyncIterable<ChangedRow>;
  /** Deletes the table's log rows at or below a committed position; returns how many. */
  trim(table: string, uptoSeq: number): Promise<number>;
  /** Whether the table's triggers are in place (status). */
  installed(table: string): Promise<boolean>;
  /**
   * Why the changes in (afterSeq, uptoSeq] cannot be applied key by key (a TRUNCATE, a fresh
   * replication slot), so the table needs a full sync; null when they can.
   */
  needsFullSync?(table: string, afterSeq: number, uptoSeq: number): Promise<string | null>;
  close(): Promise<void>;
}

/** Identifiers come from configuration and source catalogs; anything unusual is refused, not quoted around. */
export function sourceIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name))
    throw new ValidationError(`"${name}" is not a table or column name the app-db sync accepts`);
  return `"${name}"`;
}
