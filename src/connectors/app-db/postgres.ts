// Postgres application databases: rows stream through a server-side cursor (DECLARE … FETCH) in
// a read-only REPEATABLE READ transaction, so memory stays flat and the stream is one snapshot.
import { createPool, type Pool } from '../postgres.js';
import { sourceIdent, type ReadRequest, type RowsAfter, type SourceColumn, type SourceReader } from './source.js';

const FETCH_ROWS = 5000;

function whereAfter(after?: RowsAfter): { sql: string; params: unknown[] } {
  if (!after) return { sql: '', params: [] };
  return { sql: ` WHERE ${sourceIdent(after.column)} ${after.inclusive ? '>=' : '>'} $1`, params: [after.value] };
}

export function openPostgresSource(url: string, schema = 'public'): SourceReader {
  const pool: Pool = createPool(url, { max: 4, applicationName: 'learnsync-app-db' });
  const table = (t: string) => `${sourceIdent(schema)}.${sourceIdent(t)}`;
  return {
    dialect: 'postgres',
    description: `postgres schema ${schema}`,
    async columns(t: string): Promise<SourceColumn[]> {
      const { rows } = await pool.query<{ name: string; type: string; nullable: boolean }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [schema, t],
      );
      return rows.map((r) => ({ name: r.name, declaredType: r.type, nullable: r.nullable }));
    },
    async count(t: string, after?: RowsAfter): Promise<number> {
      const w = whereAfter(after);
      const { rows } = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table(t)}${w.sql}`, w.params);
      return Number(rows[0]!.n);
    },
    async *rows(t: string, req: ReadRequest): AsyncIterable<Record<string, unknown>> {
      const client = await pool.connect();
      let open = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        open = true;
        const w = whereAfter(req.after);
        const cols = req.columns.map(sourceIdent).join(', ');
        await client.query(`DECLARE app_db_rows NO SCROLL CURSOR FOR SELECT ${cols} FROM ${table(t)}${w.sql} ORDER BY ${sourceIdent(req.orderBy)}`, w.params);
        for (;;) {
          const { rows } = await client.query(`FETCH ${FETCH_ROWS} FROM app_db_rows`);
          for (const r of rows) yield r as Record<string, unknown>;
          if (rows.length < FETCH_ROWS) break;
        }
        await client.query('COMMIT');
        open = false;
      } finally {
        // Also when the consumer stopped early: close the cursor's transaction before handing the client back.
        if (open) await client.query('ROLLBACK').catch(() => {});
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
