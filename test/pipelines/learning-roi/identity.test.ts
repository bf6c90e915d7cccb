// Identity resolution in the warehouse: normalisation, the three sources' priority, tie-breaks
// within a source, conflicts with every candidate, unresolved learners, rejects, and the rule that
// only the latest complete snapshot of the e-mail sources counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLearners } from '../../../src/pipelines/learning-roi/identity.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases();
  const q = (sql: string, params: unknown[] = []) => db.warehouse.query(sql, params);
  await q(`INSERT INTO etl_kusto_runs (run_key, source, job_name, plan, started_at, finished_at) VALUES
    ('old-e', 'user_emails', 'x', '{}', now() - interval '2 days', now() - interval '2 days'),
    ('r-e', 'user_emails', 'x', '{}', now() - interval '1 hour', now() - interval '1 hour'),
    ('r-new', 'user_emails', 'x', '{}', now(), NULL),
    ('r-s', 'user_signups', 'x', '{}', now() - interval '1 hour', now() - interval '1 hour')`);
  await q(`INSERT INTO staging.kusto_ace_exam_results (exam_id, email, dotcomid, exam_code, exam_date, correct_answers,
    incorrect_answers, passed) VALUES
    ('1', '  Alice@Example.COM ', 303, 'GH-200', '2024-01-10', 40, 10, true),
    ('2', E'carol@example.com\\t', 305, 'GH-100', '2024-01-11', 30, 20, false),
    ('3', 'carol@example.com', 305, 'GH-100', '2024-02-11', 40, 10, true),
    ('4', 'CAROL@example.com', 306, 'GH-500', '2024-03-11', 40, 10, true),
    ('5', 'dan@example.com', NULL, 'GH-200', '2024-01-12', 40, 10, true),
    ('6', 'eve@example.com', 0, 'GH-200', '2024-01-13', 40, 10, true),
    ('7', 'fay@example.com', NULL, 'GH-200', '2024-01-14', 40, 10, true),
    ('8', 'n/a', 777, 'GH-200', '2024-01-15', 40, 10, true)`);
  await q(`INSERT INTO staging.kusto_pearson_exam_results (registration_id, candidate_email, exam_code, exam_date,
    score, passing_score, result) VALUES
    ('P1', 'Bob@Example.com' || chr(160), 'GH-300', '2025-08-01', 81, 70, 'Pass')`);
  await q(`INSERT INTO staging.kusto_user_emails (run_key, partition_key, user_id, email, is_primary, verified,
    updated_at) VALUES
    ('r-e', 'p0of1', 101, 'alice@example.com', true, true, '2023-01-01'),
    ('r-e', 'p0of1', 107, 'dan@example.com', true, false, '2023-01-01'),
    ('r-e', 'p0of1', 108, 'eve@example.com', false, true, '2025-01-01'),
    ('r-e', 'p0of1', 109, 'Eve@example.com', true, true, '2020-01-01'),
    ('r-e', 'p0of1', 112, '', true, true, '2020-01-01'),
    ('r-e', 'p0of1', 0, 'gus@example.com', true, true, '2020-01-01'),
    ('r-e', 'p0of1', 114, 'zed@example.com', true, true, '2020-01-01'),
    ('old-e', 'p0of1', 555, 'bob@example.com', true, true, '2020-01-01'),
    ('r-new', 'p0of1', 999, 'dan@example.com', true, true, '2026-01-01')`);
  await q(`INSERT INTO staging.kusto_user_signups (run_key, partition_key, signup_at, actor_id, email) VALUES
    ('r-s', 'p0of1', '2019-05-01', 202, 'ALICE@example.com '),
    ('r-s', 'p0of1', '2019-05-01', 204, 'bob@example.com'),
    ('r-s', 'p0of1', '2015-01-01', 110, 'fay@example.com'),
    ('r-s', 'p0of1', '2018-01-01', 111, ' fay@example.com'),
    ('r-s', 'p0of1', '2018-01-01', 113, 'not-an-email')`);
});
afterAll(async () => {
  await db?.close();
});

describe('learner identity resolution', () => {
  it('decides every learner by source priority and records the deciding source', async () => {
    const c = await withTransaction(db.warehouse, (tx) => resolveLearners(tx, 'roi_resolve_identities', '2026-01-01'));
    const { rows } = await db.warehouse.query(
      'SELECT email, dotcom_id::int AS id, resolved_by, candidate_count AS n, has_conflict AS conflict FROM ' +
        'learning_roi.learner_identities ORDER BY email',
    );
    expect(rows).toEqual([
      // verified e-mail beats signup beats exam record; the messy exam e-mail still matches
      { email: 'alice@example.com', id: 101, resolved_by: 'verified_email', n: 3, conflict: true },
      // only the latest complete snapshot counts: the older one's 555 is ignored
      { email: 'bob@example.com', id: 204, resolved_by: 'signup', n: 1, conflict: false },
      // exam records: the id on most of the learner's exams
      { email: 'carol@example.com', id: 305, resolved_by: 'exam_record', n: 2, conflict: true },
      // an unverified e-mail decides nothing, nor does a snapshot still loading (999)
      { email: 'dan@example.com', id: 0, resolved_by: 'unresolved', n: 0, conflict: false },
      // two verified claims: the primary e-mail wins
      { email: 'eve@example.com', id: 109, resolved_by: 'verified_email', n: 2, conflict: true },
      // two signups: the newest wins
      { email: 'fay@example.com', id: 111, resolved_by: 'signup', n: 2, conflict: true },
    ]);
    expect(c).toMatchObject({ learners: 6, resolved: 5, conflicts: 4, identityRows: 12, rejected: 3 });
  });

  it('records each conflict with every candidate, best first', async () => {
    const { rows } = await db.warehouse.query(
      'SELECT email, chosen_dotcom_id::int AS chosen, chosen_source, candidates ' +
        'FROM learning_roi.identity_conflicts ORDER BY email',
    );
    expect(rows).toEqual([
      {
        email: 'alice@example.com',
        chosen: 101,
        chosen_source: 'verified_email',
        candidates: [
          { dotcom_id: 101, source: 'verified_email' },
          { dotcom_id: 202, source: 'signup' },
          { dotcom_id: 303, source: 'exam_record' },
        ],
      },
      {
        email: 'carol@example.com',
        chosen: 305,
        chosen_source: 'exam_record',
        candidates: [
          { dotcom_id: 305, source: 'exam_record' },
          { dotcom_id: 306, source: 'exam_record' },
        ],
      },
      {
        email: 'eve@example.com',
        chosen: 109,
        chosen_source: 'verified_email',
        candidates: [
          { dotcom_id: 109, source: 'verified_email' },
          { dotcom_id: 108, source: 'verified_email' },
        ],
      },
      {
        email: 'fay@example.com',
        chosen: 111,
        chosen_source: 'signup',
        candidates: [
          { dotcom_id: 111, source: 'signup' },
          { dotcom_id: 110, source: 'signup' },
        ],
      },
    ]);
  });

  it('rejects identity rows without a usable e-mail or id, and a rerun gives the same result', async () => {
    const rejects = await db.warehouse.query(
      `SELECT reason, raw->>'source' AS source FROM etl_rejects WHERE job_name = 'roi_resolve_identities'
        ORDER BY reason, source`,
    );
    expect(rejects.rows).toEqual([
      { reason: 'missing or invalid email', source: 'user_emails' },
      { reason: 'missing or invalid email', source: 'user_signups' },
      { reason: 'missing or non-positive account id', source: 'user_emails' },
    ]);
    const sum = async () =>
      (
        await db.warehouse.query(
          `SELECT md5(string_agg(concat_ws('|', email, dotcom_id, resolved_by), ',' ORDER BY email)) AS s
            FROM learning_roi.learner_identities`,
        )
      ).rows[0].s;
    const before = await sum();
    await withTransaction(db.warehouse, (tx) => resolveLearners(tx, 'roi_resolve_identities', '2026-01-01'));
    expect(await sum()).toBe(before);
    expect(
      (await db.warehouse.query(`SELECT count(*)::int AS n FROM etl_rejects WHERE job_name = 'roi_resolve_identities'`))
        .rows[0].n,
    ).toBe(3);
  });

  it('writes the same rows, conflicts, rejects and counts with the partitions on parallel connections', async () => {
    const everything = async () =>
      (
        await db.warehouse.query(
          `SELECT (SELECT json_agg(i ORDER BY email) FROM learning_roi.learner_identities i) AS identities,
                  (SELECT json_agg(c ORDER BY email) FROM learning_roi.identity_conflicts c) AS conflicts,
                  (SELECT json_agg(json_build_array(reason, raw) ORDER BY reason, raw::text) FROM etl_rejects
                    WHERE job_name = 'roi_resolve_identities') AS rejects,
                  (SELECT count(*)::int FROM learning_roi.identity_work_learners)
                    + (SELECT count(*)::int FROM learning_roi.identity_work_claims) AS scratch`,
        )
      ).rows[0];
    const inTx = await withTransaction(db.warehouse, (tx) =>
      resolveLearners(tx, 'roi_resolve_identities', '2026-01-01'),
    );
    const sequential = await everything();
    const parallel = await withTransaction(db.warehouse, (tx) =>
      resolveLearners(tx, 'roi_resolve_identities', '2026-01-01', { parallel: db.warehouse }),
    );
    expect(parallel).toEqual(inTx);
    expect(await everything()).toEqual(sequential);
    expect(sequential.identities).toHaveLength(6);
    expect(sequential.scratch).toBe(0); // the scratch rows went with the commit
  });
});
