// One dimension sync: full snapshot of the source table → stage (COPY) → validation and hash →
// SCD2 or Type 1 merge, all in the caller's transaction. Rejected rows go to etl_rejects and
// reconcile: staged = valid + rejected.
import type pg from 'pg';
import type { Pool } from '../../../connectors/postgres.js';
import { ValidationError } from '../../../errors.js';
import type { JobCounts } from '../../../runtime/ledger/job-runner.js';
import type { Heartbeat } from '../../../runtime/heartbeat.js';
import { stageFromSource, withSourceSnapshot } from '../stage.js';
import { mergeScd2 } from './scd2.js';
import type { DimensionSpec } from './specs.js';
import { mergeType1 } from './type1.js';

export interface SyncOptions {
  jobName?: string;
  targetDate?: string;
  /**
   * The sync time used for closing versions; defaults to the transaction's now(). Tests and the demo replay pass their
   * own.
   */
  asOf?: string;
  heartbeat?: Heartbeat;
  /** Read the source in this exported snapshot (CDC's initial copy). */
  sourceSnapshot?: string;
  /**
   * The dimension follows the source through CDC: read, validate and compare only. A snapshot
   * merge would time versions at the sync and, ahead of a lagging capture, put them before changes
   * the capture applies later; the comparison says how many keys differ from the source instead.
   */
  checkOnly?: boolean;
}

export async function syncDimension(
  oltp: Pool,
  tx: pg.PoolClient,
  spec: DimensionSpec,
  opts: SyncOptions = {},
): Promise<JobCounts> {
  const job = opts.jobName ?? spec.job;
  const { table, businessKey: bk } = spec;
  // Every sync of this table, whatever pipeline or date started it, runs one at a time.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`dimension:${table}`]);
  const asOf = opts.asOf ?? (await tx.query<{ t: string }>('SELECT now()::text AS t')).rows[0]!.t;

  opts.heartbeat?.stage(`copy ${spec.stage.table}`);
  const staged = await withSourceSnapshot(oltp, (src) => stageFromSource(src, tx, spec.stage), opts.sourceSnapshot);
  if (staged === 0) {
    const cur = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${spec.kind === 'scd2' ? 'is_current' : 'deleted_at IS NULL'}`,
    );
    if (cur.rows[0]!.n > 0) {
      throw new ValidationError(
        `${job}: the source returned no rows but ${table} has ${cur.rows[0]!.n} live rows; refusing to close them ` +
          `all (is OLTP_DATABASE_URL right?)`,
      );
    }
  }

  opts.heartbeat?.stage('merge');
  await tx.query(
    `CREATE TEMP TABLE ${spec.stage.table}_in ON COMMIT DROP AS
     SELECT s.*, md5(row(${spec.tracked.map((c) => `s.${c}`).join(', ')})::text) AS row_hash,
            coalesce((${spec.rejectReason}),
                     CASE WHEN count(*) OVER (PARTITION BY s.${bk}) > 1
                       THEN 'duplicate ${bk} in source' END) AS reject_reason
       FROM ${spec.stage.table} s`,
  );
  await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date IS NOT DISTINCT FROM $2::date', [
    job,
    opts.targetDate ?? null,
  ]);
  const rejected = await tx.query(
    `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
     SELECT $1, $2::date, reject_reason, to_jsonb(i) - 'row_hash' - 'reject_reason' FROM ${spec.stage.table}_in i
       WHERE reject_reason IS NOT NULL`,
    [job, opts.targetDate ?? null],
  );
  const valid = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${spec.stage.table}_in WHERE reject_reason IS NULL`,
  );
  const bad = rejected.rowCount ?? 0;
  if (staged !== valid.rows[0]!.n + bad)
    throw new Error(`${job}: reconciliation failed: read ${staged} ≠ valid ${valid.rows[0]!.n} + rejected ${bad}`);

  if (opts.checkOnly) {
    const live = spec.kind === 'scd2' ? 'is_current' : 'deleted_at IS NULL';
    const diff = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n
         FROM (SELECT ${bk}, row_hash FROM ${spec.stage.table}_in WHERE reject_reason IS NULL) s
         FULL JOIN (SELECT ${bk}, row_hash FROM ${table} WHERE ${live}) d ON d.${bk} = s.${bk}
        WHERE s.row_hash IS DISTINCT FROM d.row_hash`,
    );
    return {
      processed: staged,
      rejected: bad,
      detail: { table, checkedAgainstCdc: true, keysDiffering: diff.rows[0]!.n },
    };
  }
  const { futureTimesClamped, ...merged } =
    spec.kind === 'scd2' ? await mergeScd2(tx, spec, asOf) : await mergeType1(tx, spec, asOf);
  return {
    processed: staged,
    ...merged,
    rejected: bad,
    // Flagged on the ledger row too: a source clock running ahead is worth a look.
    detail: futureTimesClamped ? { table, futureTimesClamped } : { table },
  };
}
