// What the next app-db-incremental run would move, per table, without moving anything: the rows
// after each stored cursor, counted in the application database (one indexed COUNT per table).
import type { SourceReader } from '../../connectors/app-db/source.js';
import type { Pool } from '../../connectors/postgres.js';
import { APP_DB_TABLES } from './definition.js';
import { readAllTracking } from './tracking.js';
import { incrementalAfter } from './bigquery-sync.js';
import { instantText } from '../../connectors/app-db/instant.js';

export interface AppDbPlanRow {
  table: string;
  mode: string;
  after: string;
  rows: number;
}

export async function planAppDbIncremental(pool: Pool, source: SourceReader, dataset: string): Promise<AppDbPlanRow[]> {
  const tracking = new Map((await readAllTracking(pool, dataset)).map((r) => [r.table_name, r]));
  const out: AppDbPlanRow[] = [];
  for (const t of APP_DB_TABLES) {
    const r = tracking.get(t.name);
    const after = incrementalAfter(t, r);
    const shown = after?.instant ? instantText(Number(after.value)) : after?.value;
    let rows = (await source.columns(t.name)).length === 0 ? 0 : await source.count(t.name, after);
    // As the sync decides: rows at exactly the cursor that were already synced move nothing.
    if (after?.inclusive && r?.last_cursor_rows != null && rows === Number(r.last_cursor_rows)) {
      if ((await source.count(t.name, { ...after, inclusive: false })) === 0) rows = 0;
    }
    out.push({
      table: t.name,
      mode: t.mode,
      after: after ? `${after.column} ${after.inclusive ? '>=' : '>'} ${shown}` : 'everything (never synced)',
      rows,
    });
  }
  return out;
}
