// Type 1 merge: the dimension row is overwritten when its hash changes (no history), and marked
// deleted_at when the key vanishes from the source — its surrogate key stays, for old facts.
import type pg from 'pg';
import type { MergeCounts } from './scd2.js';
import type { DimensionSpec } from './specs.js';

export async function mergeType1(tx: pg.PoolClient, spec: DimensionSpec, asOf: string): Promise<MergeCounts> {
  const { table, businessKey: bk, stage, tracked } = spec;
  const cols = tracked.join(', ');
  const up = await tx.query<{ inserted: boolean }>(
    `INSERT INTO ${table} AS d (${bk}, ${cols}, row_hash, source_updated_at, first_seen_at, updated_at, deleted_at)
     SELECT ${bk}, ${cols}, row_hash, updated_at, $1::timestamptz, $1::timestamptz, NULL
       FROM ${stage.table}_in WHERE reject_reason IS NULL ORDER BY ${bk}
     ON CONFLICT (${bk}) DO UPDATE SET ${tracked.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
            row_hash = EXCLUDED.row_hash, source_updated_at = EXCLUDED.source_updated_at,
            updated_at = EXCLUDED.updated_at, deleted_at = NULL
      WHERE d.row_hash <> EXCLUDED.row_hash OR d.deleted_at IS NOT NULL
     RETURNING (xmax = 0) AS inserted`,
    [asOf],
  );
  const inserted = up.rows.filter((r) => r.inserted).length;
  const deleted = await tx.query(
    `UPDATE ${table} d SET deleted_at = $1::timestamptz, updated_at = $1::timestamptz
      WHERE d.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM ${stage.table} s WHERE s.${bk} = d.${bk})`,
    [asOf],
  );
  return { inserted, updated: up.rows.length - inserted, deleted: deleted.rowCount ?? 0 };
}
