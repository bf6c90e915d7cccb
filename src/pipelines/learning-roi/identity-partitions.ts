// The parallel part of identity resolution (issue 19: ~1M learners × 3 sources within 10 s on two
// cores). One Postgres backend uses one core, so the stage's heavy work runs as statements on
// separate connections, in two phases, into the UNLOGGED scratch tables of migration 090:
//   1. scan: each connection reads its own range of blocks of the four staging tables (TID range
//      scans), normalises every e-mail once, and writes the rows into tables hash-partitioned on the
//      normalised e-mail; it reads staging in the stage's own snapshot (pg_export_snapshot), so it
//      sees exactly what the stage's transaction sees;
//   2. resolve: each connection resolves the learners of one hash partition (no e-mail spans two)
//      and writes their identity rows and conflicts.
// The stage's transaction then copies the results into the real tables (identity.ts), so the
// published tables still change in one transaction with the ledger. Without a pool the same
// statements run one after another inside that transaction (tests, small runs).
import pg from 'pg';
import type { Pool, PoolClient } from '../../connectors/postgres.js';
import { emailProblemSql } from '../../warehouse/email-identity.js';

/** Partitions of the scratch tables (migration 090): one statement per partition runs in parallel. */
export const IDENTITY_PARTITIONS = 2;

export const LATEST_SNAPSHOT = (source: string) =>
  `(SELECT run_key FROM etl_kusto_runs WHERE source = '${source}' AND finished_at IS NOT NULL
     ORDER BY finished_at DESC LIMIT 1)`;

/** Why an identity row is rejected, or NULL; `email` must be a plain column (emailProblemSql). */
const REJECT_REASON = (email: string, idCol: string) => `coalesce(${emailProblemSql(email)},
    CASE WHEN ${idCol} IS NULL OR ${idCol} <= 0 THEN 'missing or non-positive account id' END)`;

export const WORK_TABLES = [
  'learning_roi.identity_work_exams',
  'learning_roi.identity_work_claims',
  'learning_roi.identity_work_learners',
  'learning_roi.identity_work_conflicts',
];

const STAGING = {
  ace: 'staging.kusto_ace_exam_results',
  pearson: 'staging.kusto_pearson_exam_results',
  emails: 'staging.kusto_user_emails',
  signups: 'staging.kusto_user_signups',
} as const;
type StagingTable = keyof typeof STAGING;

/** A range of heap blocks [from, to) of each staging table; `to` undefined = to the end. */
type BlockRange = { from: number; to?: number };
type BlockRanges = Record<StagingTable, BlockRange>;

const inRange = (alias: string, r: BlockRange) =>
  `${alias}.ctid >= '(${r.from},0)'::tid${r.to === undefined ? '' : ` AND ${alias}.ctid < '(${r.to},0)'::tid`}`;

/** Phase 1 for one block range: normalised exam e-mails and every identity row, with its reason if rejected. */
async function scanRange(c: PoolClient | pg.Client, r: BlockRanges): Promise<void> {
  await c.query(`INSERT INTO learning_roi.identity_work_exams (email, dotcom_id, exam_date)
    SELECT learning_roi.normalize_email(s.email), CASE WHEN s.dotcomid > 0 THEN s.dotcomid END, s.exam_date
      FROM ${STAGING.ace} s WHERE ${inRange('s', r.ace)}
    UNION ALL
    SELECT learning_roi.normalize_email(s.candidate_email), NULL, NULL
      FROM ${STAGING.pearson} s WHERE ${inRange('s', r.pearson)}`);
  // Rank 1: verified e-mails (the primary, then the newest), rank 2: signups (the newest). OFFSET 0
  // keeps each level a subquery of its own, so the normalised e-mail and the reason are columns,
  // computed once per row, and `raw` (the staging row as JSON) is built for rejected rows only.
  const identityRows = (table: string, source: string, id: string, snapshot: string, range: BlockRange) => `
    SELECT *, CASE WHEN reason IS NOT NULL
                THEN to_jsonb(y) - 'norm' - 'reason' - 'run_key' - 'partition_key' || '{"source":"${source}"}' END
                AS raw
      FROM (SELECT *, ${REJECT_REASON('x.norm', `x.${id}`)} AS reason
              FROM (SELECT s.*, learning_roi.normalize_email(s.email) AS norm FROM ${table} s
                     WHERE s.run_key = ${LATEST_SNAPSHOT(snapshot)} AND ${inRange('s', range)} OFFSET 0) x
            OFFSET 0) y`;
  await c.query(`INSERT INTO learning_roi.identity_work_claims (email, dotcom_id, rank, pref1, pref2, is_claim,
      reason, raw)
    SELECT norm, user_id, 1, CASE WHEN is_primary THEN 0 ELSE 1 END, -coalesce(extract(epoch FROM updated_at), 0),
      verified IS TRUE AND user_id > 0, reason, raw
      FROM (${identityRows(STAGING.emails, 'user_emails', 'user_id', 'user_emails', r.emails)}) e
    UNION ALL
    SELECT norm, actor_id, 2, 0, -coalesce(extract(epoch FROM signup_at), 0), actor_id > 0, reason, raw
      FROM (${identityRows(STAGING.signups, 'user_signups', 'actor_id', 'user_signups', r.signups)}) s`);
}

export interface PartitionOutcome {
  /** Exam rows by outcome: 'resolved', 'unresolved' or the e-mail's problem. */
  examRows: Record<string, number>;
  bySource: Record<string, number>;
  validIdentityRows: number;
}

const SOURCE_OF_RANK = `CASE c.rank WHEN 1 THEN 'verified_email' WHEN 2 THEN 'signup' ELSE 'exam_record' END`;

/** Phase 2 for hash partition `p`: its learners, their best claim, conflicts and exam-row outcomes. */
async function resolvePartition(c: PoolClient | pg.Client, p: number): Promise<PartitionOutcome> {
  const exams = `learning_roi.identity_work_exams_p${p}`;
  const claims = `learning_roi.identity_work_claims_p${p}`;
  const learners = `learning_roi.identity_work_learners_p${p}`;
  // Every distinct exam e-mail once, with its exam rows and its problem (valid ones are the learners).
  await c.query(`CREATE TEMP TABLE roi_exam_emails AS
    SELECT email, n, ${emailProblemSql('email')} AS problem
      FROM (SELECT email, count(*)::int AS n FROM ${exams} GROUP BY email) g`);
  // Every claim on a learner, best per (e-mail, id, rank); exam records claim by their most used id.
  await c.query(`CREATE TEMP TABLE roi_claims AS
    SELECT DISTINCT ON (email, dotcom_id, rank) email, dotcom_id, rank, pref1, pref2 FROM (
      SELECT email, dotcom_id, rank, pref1, pref2 FROM ${claims} WHERE is_claim
      UNION ALL
      SELECT email, dotcom_id, 3, -count(*), -extract(epoch FROM max(exam_date))
        FROM ${exams} WHERE dotcom_id IS NOT NULL GROUP BY 1, 2) c
    WHERE EXISTS (SELECT 1 FROM roi_exam_emails l WHERE l.email = c.email AND l.problem IS NULL)
    ORDER BY email, dotcom_id, rank, pref1, pref2`);
  await c.query(`INSERT INTO ${learners} (email, dotcom_id, resolved_by, candidate_count, has_conflict)
    SELECT l.email, coalesce(d.dotcom_id, 0), coalesce(d.source, 'unresolved'), coalesce(d.ids, 0),
      coalesce(d.ids, 0) > 1
      FROM roi_exam_emails l
      LEFT JOIN (SELECT email, (array_agg(dotcom_id ORDER BY rank, pref1, pref2, dotcom_id))[1] AS dotcom_id,
          (array_agg(${SOURCE_OF_RANK} ORDER BY rank, pref1, pref2, dotcom_id))[1] AS source,
          count(DISTINCT dotcom_id)::int AS ids
        FROM roi_claims c GROUP BY email) d USING (email)
     WHERE l.problem IS NULL`);
  await c.query(`INSERT INTO learning_roi.identity_work_conflicts (email, chosen_dotcom_id, chosen_source, candidates)
    SELECT i.email, i.dotcom_id, i.resolved_by,
           jsonb_agg(jsonb_build_object('dotcom_id', c.dotcom_id, 'source', ${SOURCE_OF_RANK})
             ORDER BY c.rank, c.pref1, c.pref2, c.dotcom_id)
      FROM ${learners} i JOIN roi_claims c USING (email)
     WHERE i.has_conflict
     GROUP BY i.email, i.dotcom_id, i.resolved_by`);
  const outcomes = await c.query<{ outcome: string; n: number }>(
    `SELECT coalesce(l.problem, CASE WHEN i.dotcom_id > 0 THEN 'resolved' ELSE 'unresolved' END) AS outcome,
            sum(l.n)::int AS n
       FROM roi_exam_emails l LEFT JOIN ${learners} i ON i.email = l.email AND l.problem IS NULL
      GROUP BY 1`,
  );
  const by = await c.query<{ resolved_by: string; n: number }>(
    `SELECT resolved_by, count(*)::int AS n FROM ${learners} GROUP BY resolved_by`,
  );
  const valid = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${claims} WHERE reason IS NULL`);
  await c.query('DROP TABLE roi_exam_emails, roi_claims');
  return {
    examRows: Object.fromEntries(outcomes.rows.map((r) => [r.outcome, r.n])),
    bySource: Object.fromEntries(by.rows.map((r) => [r.resolved_by, r.n])),
    validIdentityRows: valid.rows[0]!.n,
  };
}

const WORK_MEM = `SET LOCAL work_mem = '256MB'`;
const TEMP_BUFFERS = '512MB';

/**
 * Fills the scratch tables from staging as `tx` sees it and resolves every partition. With `pool`,
 * the work runs on IDENTITY_PARTITIONS extra connections in parallel (made from the pool's settings,
 * not taken from it, so a busy pool cannot starve the stage that holds the identities lock);
 * without, it runs inside `tx`.
 */
export async function resolvePartitions(tx: PoolClient, pool: Pool | undefined): Promise<PartitionOutcome[]> {
  if (!pool) {
    await tx.query(`TRUNCATE ${WORK_TABLES.join(', ')}`);
    await scanRange(tx, { ace: { from: 0 }, pearson: { from: 0 }, emails: { from: 0 }, signups: { from: 0 } });
    const out: PartitionOutcome[] = [];
    for (let p = 0; p < IDENTITY_PARTITIONS; p++) out.push(await resolvePartition(tx, p));
    return out;
  }
  const clients = Array.from({ length: IDENTITY_PARTITIONS }, () => new pg.Client(pool.options));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    // A fresh session may still size its temp-table buffers: the partitions' temp tables (a few
    // hundred MB at 1M learners) stay in memory instead of going through 8 MB of local buffers.
    await Promise.all(clients.map((c) => c.query(`SET temp_buffers = '${TEMP_BUFFERS}'`)));
    await clients[0]!.query(`TRUNCATE ${WORK_TABLES.join(', ')}`);
    const snapshot = (await tx.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    const blocks = (
      await tx.query<Record<StagingTable, number>>(
        `SELECT ${Object.entries(STAGING)
          .map(([k, t]) => `(pg_relation_size('${t}') / current_setting('block_size')::int)::int AS ${k}`)
          .join(', ')}`,
      )
    ).rows[0]!;
    const rangeOf = (i: number): BlockRanges => {
      const part = (n: number) => ({
        from: Math.floor((n * i) / clients.length),
        to: i === clients.length - 1 ? undefined : Math.floor((n * (i + 1)) / clients.length),
      });
      return {
        ace: part(blocks.ace),
        pearson: part(blocks.pearson),
        emails: part(blocks.emails),
        signups: part(blocks.signups),
      };
    };
    await Promise.all(
      clients.map(async (c, i) => {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await c.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, '')}'`);
        await scanRange(c, rangeOf(i));
        await c.query('COMMIT');
      }),
    );
    return await Promise.all(
      clients.map(async (c, p) => {
        await c.query('BEGIN');
        await c.query(WORK_MEM);
        const out = await resolvePartition(c, p);
        await c.query('COMMIT');
        return out;
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
