// Postgres application databases: rows stream through a server-side cursor (DECLARE … FETCH) in
// a read-only REPEATABLE READ transaction, so memory stays flat and the stream is one snapshot.
import { createPool, type Pool, type PoolClient } from '../postgres.js';
import { ValidationError } from '../../errors.js';
import { sourceIdent, type ReadRequest, type RowsAfter, type SourceColumn, type SourceReader } from './source.js';

const FETCH_ROWS = 5000;

function whereAfter(after?: RowsAfter): { sql: string; params: unknown[] } {
  if (!after) return { sql: '', params: [] };
  // Postgres cursor columns are typed timestamps: an instant cursor (epoch ms) becomes one.
  const value = after.instant ? 'to_timestamp($1::float8 / 1000)' : '$1';
  return {
    sql: ` WHERE ${sourceIdent(after.column)} ${after.inclusive ? '>=' : '>'} ${value}`,
    params: [after.value],
  };
}

export function openPostgresSource(url: string, schema = 'public'): SourceReader {
  const pool: Pool = createPool(url, { max: 4, applicationName: 'learnsync-app-db' });
  return postgresSource(pool, schema, () => pool.end());
}

let cursorSeq = 0;

async function* fetchAll(client: PoolClient, cursor: string): AsyncIterable<Record<string, unknown>> {
  for (;;) {
    const { rows } = await client.query(`FETCH ${FETCH_ROWS} FROM ${cursor}`);
    for (const r of rows) yield r as Record<string, unknown>;
    if (rows.length < FETCH_ROWS) return;
  }
}

/**
 * A reader over a pool someone else owns (the warehouse, when publishing its tables). With
 * `inTransaction`, rows stream through that client's open transaction instead of a connection of
 * their own, so a ledgered job needs no second connection.
 */
export function postgresSource(
  db: Pool | { transaction: PoolClient },
  schema = 'public',
  end: () => Promise<void> = async () => {},
): SourceReader {
  const inTransaction = 'transaction' in db ? db.transaction : undefined;
  const queryable = inTransaction ?? (db as Pool);
  const table = (t: string) => `${sourceIdent(schema)}.${sourceIdent(t)}`;
  return {
    dialect: 'postgres',
    description: `postgres schema ${schema}`,
    async columns(t: string): Promise<SourceColumn[]> {
      const { rows } = await queryable.query<{ name: string; type: string; nullable: boolean }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [schema, t],
      );
      return rows.map((r) => ({ name: r.name, declaredType: r.type, nullable: r.nullable }));
    },
    async count(t: string, after?: RowsAfter): Promise<number> {
      const w = whereAfter(after);
      const { rows } = await queryable.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table(t)}${w.sql}`, w.params);
      return Number(rows[0]!.n);
    },
    async *rows(t: string, req: ReadRequest): AsyncIterable<Record<string, unknown>> {
      const w = whereAfter(req.after);
      const cols = req.columns.map(sourceIdent).join(', ');
      const select = `SELECT ${cols} FROM ${table(t)}${w.sql} ORDER BY ${sourceIdent(req.orderBy)}`;
      if (inTransaction) {
        // Inside the caller's transaction (a ledgered job): a cursor of its own, closed after.
        const cursor = `app_db_rows_${++cursorSeq}`;
        await inTransaction.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`, w.params);
        try {
          yield* fetchAll(inTransaction, cursor);
        } finally {
          await inTransaction.query(`CLOSE ${cursor}`).catch(() => {});
        }
        return;
      }
      const client = await (db as Pool).connect();
      let open = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        open = true;
        await client.query(`DECLARE app_db_rows NO SCROLL CURSOR FOR ${select}`, w.params);
        yield* fetchAll(client, 'app_db_rows');
        await client.query('COMMIT');
        open = false;
      } finally {
        // Also when the consumer stopped early: close the cursor's transaction before handing the client back.
        if (open) await client.query('ROLLBACK').catch(() => {});
        client.release();
      }
    },
    async rowsWithKeys(t: string, key: string, columns: string[], keys: readonly string[]) {
      const types = await queryable.query<{ type: string }>(
        `SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped`,
        [schema, t, key],
      );
      const type = types.rows[0]?.type;
      if (!type || !/^[a-z][a-z0-9 _(),]*$/.test(type))
        throw new ValidationError(`app-db table ${t} has no key column ${key} of a type the sync can look up`);
      const cols = columns.map(sourceIdent).join(', ');
      const { rows } = await queryable.query(
        `SELECT ${cols} FROM ${table(t)} WHERE ${sourceIdent(key)} = ANY($1::text[]::${type}[])`,
        [keys],
      );
      return rows as Record<string, unknown>[];
    },
    async close() {
      await end();
    },
  };
}
