// One fact build: stage the date's source rows (COPY, one source snapshot), then in one SQL
// statement inside the warehouse derive the candidate rows, send the bad ones to etl_rejects and
// insert the good ones — after deleting the date's partition, in the same transaction. A crash
// anywhere rolls all of it back; a rerun reproduces the same rows.
import type pg from 'pg';
import type { Pool } from '../../../connectors/postgres.js';
import { addDays } from '../../dates.js';
import type { JobCounts } from '../../../runtime/ledger/job-runner.js';
import type { Heartbeat } from '../../../runtime/heartbeat.js';
import { dateKey } from '../partitions.js';
import { stageFromSource, withSourceSnapshot } from '../stage.js';
import type { FactDay, FactSpec } from './spec.js';

export function factDay(date: string): FactDay {
  return {
    date,
    dateKey: dateKey(date),
    dayStart: `'${date}T00:00:00Z'::timestamptz`,
    dayEnd: `'${addDays(date, 1)}T00:00:00Z'::timestamptz`,
    previousDate: addDays(date, -1),
  };
}

export interface BuildOptions {
  jobName?: string;
  heartbeat?: Heartbeat;
}

/** `date` must be validated (it is inlined into COPY statements). The partition must exist (ensureMonthPartition). */
export async function buildFact(
  oltp: Pool,
  tx: pg.PoolClient,
  spec: FactSpec,
  date: string,
  opts: BuildOptions = {},
): Promise<JobCounts> {
  const job = opts.jobName ?? spec.job;
  const day = factDay(date);
  const hb = opts.heartbeat;

  // Room for the transform's hashes and sorts of a million-event day without spilling to disk (this transaction only).
  await tx.query(`SET LOCAL work_mem = '64MB'`);
  hb?.stage('delete partition');
  const deleted = await tx.query(`DELETE FROM ${spec.table} WHERE date_key = $1`, [day.dateKey]);
  await tx.query('DELETE FROM etl_rejects WHERE job_name = $1 AND target_date = $2::date', [job, date]);

  const staged: Record<string, number> = {};
  await withSourceSnapshot(oltp, async (src) => {
    for (const stage of spec.stages(day)) {
      hb?.stage(`copy ${stage.table}`);
      staged[stage.table] = await stageFromSource(src, tx, stage);
    }
  });

  hb?.stage('transform', staged);
  const cols = spec.columns.join(', ');
  const { rows } = await tx.query<{ read: number; rejected: number; inserted: number }>(
    // The leading comment names the job in pg_stat_activity and in slow-query logs.
    `/* ${job} ${date} */ WITH c AS MATERIALIZED (${spec.candidates(day)}),
     rej AS (INSERT INTO etl_rejects (job_name, target_date, reason, raw)
             SELECT $1, $2::date, reject_reason, to_jsonb(src) FROM c WHERE reject_reason IS NOT NULL RETURNING 1),
     ins AS (INSERT INTO ${spec.table} (${cols}) SELECT ${cols} FROM c WHERE reject_reason IS NULL RETURNING 1)
     SELECT (SELECT count(*) FROM c)::int AS read, (SELECT count(*) FROM rej)::int AS rejected,
       (SELECT count(*) FROM ins)::int AS inserted`,
    [job, date],
  );
  const { read, rejected, inserted } = rows[0]!;
  if (read !== inserted + rejected)
    throw new Error(`${job} ${date}: reconciliation failed: read ${read} ≠ loaded ${inserted} + rejected ${rejected}`);
  return {
    processed: read,
    inserted,
    deleted: deleted.rowCount ?? 0,
    rejected,
    detail: {
      table: spec.table,
      grain: spec.grain,
      ...Object.fromEntries(Object.entries(staged).map(([t, n]) => [`staged_${t.replace(/^stage_/, '')}`, n])),
    },
  };
}
