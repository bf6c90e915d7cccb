// SCD Type 2 merge of a staged snapshot into its dimension, in SQL inside the warehouse.
//
// Validity: the first version of a key starts at the source's created_at (events before the
// warehouse first looked still find it); a change starts at the source's updated_at, or at the
// sync time when the source did not move updated_at past the current version; a key missing
// from the source is closed at the sync time. A key that comes back after a delete opens its new
// version at the sync that first sees it again — its old timestamps (a restore from backup) would
// erase the period in which it did not exist. Source times in the future are clamped to the sync
// time and the version is flagged (source_time_clamped), so as-of-now lookups agree with
// is_current. The schema's constraints (one current, no overlap) hold whatever the source does.
import type pg from 'pg';
import type { DimensionSpec } from './specs.js';

export interface MergeCounts {
  inserted: number;
  updated: number;
  deleted: number;
  /** Versions whose source time lay in the future and was clamped to the sync time. */
  futureTimesClamped?: number;
}

/** `<stage>_in` holds the staged rows with row_hash and reject_reason; `asOf` is the sync time. */
export async function mergeScd2(tx: pg.PoolClient, spec: DimensionSpec, asOf: string): Promise<MergeCounts> {
  const { table, businessKey: bk, surrogateKey: sk, stage, tracked } = spec;
  const cols = tracked.join(', ');
  await tx.query(
    `CREATE TEMP TABLE ${stage.table}_changes ON COMMIT DROP AS
     SELECT ${bk}, ${cols}, row_hash, current_key,
            source_from > $1::timestamptz AND (current_key IS NOT NULL OR last_to IS NULL) AS clamped,
            CASE WHEN current_key IS NOT NULL THEN
                   CASE WHEN least(source_from, $1::timestamptz) > current_from THEN least(source_from, $1::timestamptz)
                        ELSE greatest($1::timestamptz, current_from) END
                 WHEN last_to IS NULL THEN least(source_from, $1::timestamptz)
                 ELSE greatest($1::timestamptz, last_to) END AS new_from
       FROM (SELECT i.${bk}, ${tracked.map((c) => `i.${c}`).join(', ')}, i.row_hash,
                    c.${sk} AS current_key, c.effective_from AS current_from,
                    CASE WHEN c.${sk} IS NOT NULL THEN i.updated_at
                         ELSE coalesce(i.created_at, i.updated_at, $1::timestamptz) END AS source_from,
                    CASE WHEN c.${sk} IS NULL
                         THEN (SELECT max(x.effective_to) FROM ${table} x WHERE x.${bk} = i.${bk}) END AS last_to
               FROM ${stage.table}_in i
               LEFT JOIN ${table} c ON c.${bk} = i.${bk} AND c.is_current
              WHERE i.reject_reason IS NULL AND (c.${sk} IS NULL OR c.row_hash <> i.row_hash)) x`,
    [asOf],
  );
  // Close before opening: the partial unique index allows one current version at any instant.
  const closed = await tx.query(
    `UPDATE ${table} d SET effective_to = ch.new_from, is_current = false
       FROM ${stage.table}_changes ch WHERE d.${sk} = ch.current_key`,
  );
  const opened = await tx.query(
    `INSERT INTO ${table} (${bk}, ${cols}, row_hash, effective_from, effective_to, is_current, source_time_clamped)
     SELECT ${bk}, ${cols}, row_hash, new_from, NULL, true, coalesce(clamped, false)
       FROM ${stage.table}_changes ORDER BY ${bk}`,
  );
  const clamped = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${stage.table}_changes WHERE clamped`);
  // Gone from the source (rejected rows still count as present: a bad update keeps the last good version).
  const deleted = await tx.query(
    `UPDATE ${table} d SET effective_to = greatest($1::timestamptz, d.effective_from), is_current = false
      WHERE d.is_current AND NOT EXISTS (SELECT 1 FROM ${stage.table} s WHERE s.${bk} = d.${bk})`,
    [asOf],
  );
  return {
    inserted: opened.rowCount ?? 0,
    updated: closed.rowCount ?? 0,
    deleted: deleted.rowCount ?? 0,
    futureTimesClamped: clamped.rows[0]!.n,
  };
}
