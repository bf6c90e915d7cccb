// SCD Type 2 dimensions against hand-made source rows: every case the issue names, with the
// schema's invariants (one current version, no overlapping versions) checked after each step.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { syncDimension } from '../../../src/pipelines/warehouse/dimensions/sync.js';
import {
  DIM_LEARNER,
  DIM_TENANT,
  DIM_USER,
  type DimensionSpec,
} from '../../../src/pipelines/warehouse/dimensions/specs.js';
import { buildFact } from '../../../src/pipelines/warehouse/facts/build.js';
import { FACT_FOCUS_EVENTS } from '../../../src/pipelines/warehouse/facts/focus-events.js';
import { ensureMonthPartition } from '../../../src/pipelines/warehouse/partitions.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { createOltpSchema, truncateOltp } from '../../../src/pipelines/warehouse/sample/schema.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let dbs: TestDatabases;
beforeAll(async () => {
  dbs = await createTestDatabases();
  await createOltpSchema(dbs.oltp);
});
afterAll(async () => {
  await dbs?.close();
});
beforeEach(async () => {
  await truncateOltp(dbs.oltp);
  await dbs.warehouse.query('TRUNCATE dw.dim_tenant, dw.dim_learner, dw.dim_user, etl_rejects');
});

const T1 = '11111111-1111-1111-1111-111111111111';
const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'aaaaaaaa-0000-0000-0000-000000000002';
const C = 'aaaaaaaa-0000-0000-0000-000000000003';

const sync = (spec: DimensionSpec, asOf: string) =>
  withTransaction(dbs.warehouse, (tx) => syncDimension(dbs.oltp, tx, spec, { asOf }));

async function addTenant(id = T1, name = 'Northwind Academy', at = '2025-01-01T00:00:00Z') {
  await dbs.oltp.query(
    `INSERT INTO platform.tenants (tenant_id, name, region, plan, is_active, created_at, updated_at)
      VALUES ($1, $2, 'eu-west', 'pro', true, $3, $3)`,
    [id, name, at],
  );
}
async function addLearner(id: string, n: number, grade: number, at = '2025-06-01T00:00:00Z') {
  await dbs.oltp.query(
    `INSERT INTO platform.learners (learner_id, student_number, tenant_id, grade_level, preferred_language, is_active,
     created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'en', true, $5, $5)`,
    [id, n, T1, grade, at],
  );
}
const setGrade = (id: string, grade: number, at: string) =>
  dbs.oltp.query('UPDATE platform.learners SET grade_level = $2, updated_at = $3 WHERE learner_id = $1', [
    id,
    grade,
    at,
  ]);

interface Version {
  key: number;
  grade: number;
  from: string;
  to: string | null;
  current: boolean;
}
async function versions(id: string): Promise<Version[]> {
  const { rows } = await dbs.warehouse.query<Version>(
    `SELECT learner_key AS key, grade_level AS grade,
            to_char(effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS from,
            to_char(effective_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS to, is_current AS current
       FROM dw.dim_learner WHERE learner_id = $1 ORDER BY effective_from, learner_key`,
    [id],
  );
  return rows;
}

/** The invariants the issue asks for, checked on the whole table. */
async function expectInvariants(table = 'dw.dim_learner', key = 'learner_id') {
  const { rows } = await dbs.warehouse.query<{ multi_current: number; overlaps: number; open_not_current: number }>(
    `SELECT (SELECT count(*)
               FROM (SELECT ${key} FROM ${table} WHERE is_current GROUP BY ${key} HAVING count(*) > 1) m
            )::int AS multi_current,
            (SELECT count(*) FROM ${table} a JOIN ${table} b ON a.${key} = b.${key} AND a.ctid < b.ctid
              AND tstzrange(a.effective_from, a.effective_to) && tstzrange(b.effective_from, b.effective_to)
            )::int AS overlaps,
            (SELECT count(*) FROM ${table} WHERE is_current <> (effective_to IS NULL))::int AS open_not_current`,
  );
  expect(rows[0]).toEqual({ multi_current: 0, overlaps: 0, open_not_current: 0 });
}

describe('SCD2 dimensions', () => {
  beforeEach(async () => {
    await addTenant();
    await addLearner(A, 1, 3);
    await addLearner(B, 2, 5);
    await addLearner(C, 3, 7);
    await sync(DIM_TENANT, '2026-03-01T00:00:00Z');
    const first = await sync(DIM_LEARNER, '2026-03-01T00:00:00Z');
    expect(first).toMatchObject({ processed: 3, inserted: 3, updated: 0, deleted: 0, rejected: 0 });
  });

  it('first load: one current version per learner, valid from the source created_at', async () => {
    expect(await versions(A)).toEqual([
      { key: expect.any(Number), grade: 3, from: '2025-06-01T00:00', to: null, current: true },
    ]);
    await expectInvariants();
  });

  it('no change: a resync opens and closes nothing', async () => {
    const before = await versions(A);
    expect(await sync(DIM_LEARNER, '2026-03-02T00:00:00Z')).toMatchObject({
      processed: 3,
      inserted: 0,
      updated: 0,
      deleted: 0,
    });
    expect(await versions(A)).toEqual(before);
  });

  it('attribute change: the old version closes where the new one opens, at the source updated_at', async () => {
    await setGrade(A, 4, '2026-03-02T12:00:00Z');
    expect(await sync(DIM_LEARNER, '2026-03-02T12:30:00Z')).toMatchObject({ inserted: 1, updated: 1, deleted: 0 });
    const v = await versions(A);
    expect(v.map(({ grade, from, to, current }) => ({ grade, from, to, current }))).toEqual([
      { grade: 3, from: '2025-06-01T00:00', to: '2026-03-02T12:00', current: false },
      { grade: 4, from: '2026-03-02T12:00', to: null, current: true },
    ]);
    expect(v[0]!.key).not.toBe(v[1]!.key);
    await expectInvariants();
  });

  it('change and change back: three versions, the last with the first one’s attributes and hash', async () => {
    await setGrade(B, 6, '2026-03-02T08:00:00Z');
    await sync(DIM_LEARNER, '2026-03-02T09:00:00Z');
    await setGrade(B, 5, '2026-03-04T08:00:00Z');
    await sync(DIM_LEARNER, '2026-03-04T09:00:00Z');
    expect((await versions(B)).map(({ grade, from, to }) => [grade, from, to])).toEqual([
      [5, '2025-06-01T00:00', '2026-03-02T08:00'],
      [6, '2026-03-02T08:00', '2026-03-04T08:00'],
      [5, '2026-03-04T08:00', null],
    ]);
    const hashes = await dbs.warehouse.query<{ row_hash: string }>(
      'SELECT row_hash FROM dw.dim_learner WHERE learner_id = $1 ORDER BY effective_from',
      [B],
    );
    expect(hashes.rows[2]!.row_hash).toBe(hashes.rows[0]!.row_hash);
    expect(hashes.rows[1]!.row_hash).not.toBe(hashes.rows[0]!.row_hash);
    await expectInvariants();
  });

  it('a source delete closes the version at the sync time; a comeback opens when a sync sees it again', async () => {
    await dbs.oltp.query('DELETE FROM platform.learners WHERE learner_id = $1', [C]);
    expect(await sync(DIM_LEARNER, '2026-03-05T00:00:00Z')).toMatchObject({
      processed: 2,
      inserted: 0,
      updated: 0,
      deleted: 1,
    });
    expect(await versions(C)).toEqual([
      { key: expect.any(Number), grade: 7, from: '2025-06-01T00:00', to: '2026-03-05T00:00', current: false },
    ]);
    // A resync does not close it again.
    expect(await sync(DIM_LEARNER, '2026-03-06T00:00:00Z')).toMatchObject({ deleted: 0, inserted: 0 });

    await addLearner(C, 3, 8, '2025-06-01T00:00:00Z'); // restored from backup: old timestamps
    expect(await sync(DIM_LEARNER, '2026-03-07T00:00:00Z')).toMatchObject({ inserted: 1, deleted: 0 });
    // Not at its old updated_at, nor at the close: between 03-05 and 03-07 the learner did not exist.
    expect((await versions(C)).map(({ grade, from, to, current }) => [grade, from, to, current])).toEqual([
      [7, '2025-06-01T00:00', '2026-03-05T00:00', false],
      [8, '2026-03-07T00:00', null, true],
    ]);
    const asOf = async (t: string) =>
      (
        await dbs.warehouse.query(
          `SELECT grade_level AS grade FROM dw.dim_learner
            WHERE learner_id = $1 AND effective_from <= $2 AND (effective_to IS NULL OR effective_to > $2)`,
          [C, t],
        )
      ).rows;
    expect(await asOf('2026-03-06T00:00:00Z')).toEqual([]);
    expect(await asOf('2026-03-07T00:00:00Z')).toEqual([{ grade: 8 }]);
    await expectInvariants();
  });

  it('a future updated_at/created_at is clamped to the sync time and flagged; as-of-now agrees', async () => {
    await setGrade(A, 9, '2027-01-01T00:00:00Z'); // the source clock runs ten months ahead
    await addLearner('aaaaaaaa-0000-0000-0000-000000000004', 4, 2, '2026-12-24T00:00:00Z');
    const r = await sync(DIM_LEARNER, '2026-03-02T12:00:00Z');
    expect(r).toMatchObject({ inserted: 2, updated: 1, detail: { futureTimesClamped: 2 } });
    expect((await versions(A)).map(({ grade, from, to, current }) => [grade, from, to, current])).toEqual([
      [3, '2025-06-01T00:00', '2026-03-02T12:00', false],
      [9, '2026-03-02T12:00', null, true],
    ]);
    const flags = await dbs.warehouse.query(
      `SELECT grade_level AS grade, source_time_clamped AS clamped,
              effective_from <= now() AND effective_from <= $1 AS started
         FROM dw.dim_learner WHERE is_current ORDER BY grade_level`,
      ['2026-03-02T12:00:00Z'],
    );
    expect(flags.rows).toEqual([
      { grade: 2, clamped: true, started: true },
      { grade: 5, clamped: false, started: true },
      { grade: 7, clamped: false, started: true },
      { grade: 9, clamped: true, started: true },
    ]);
    // Every current version is the one an as-of-now lookup finds.
    const asOfNow = await dbs.warehouse.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM dw.dim_learner
        WHERE effective_from <= $1 AND (effective_to IS NULL OR effective_to > $1)`,
      ['2026-03-02T12:00:00Z'],
    );
    expect(asOfNow.rows[0]!.n).toBe(4);
    // A later sync with the same future stamp changes nothing.
    expect(await sync(DIM_LEARNER, '2026-03-03T00:00:00Z')).toMatchObject({ inserted: 0, updated: 0 });
    await expectInvariants();
  });

  it('two changes in one day: each sync records its change, the versions tile the day', async () => {
    await setGrade(A, 4, '2026-03-02T10:00:00Z');
    await sync(DIM_LEARNER, '2026-03-02T10:30:00Z');
    await setGrade(A, 5, '2026-03-02T15:00:00Z');
    await sync(DIM_LEARNER, '2026-03-02T15:30:00Z');
    expect((await versions(A)).map(({ grade, from, to }) => [grade, from, to])).toEqual([
      [3, '2025-06-01T00:00', '2026-03-02T10:00'],
      [4, '2026-03-02T10:00', '2026-03-02T15:00'],
      [5, '2026-03-02T15:00', null],
    ]);
    // Two changes between syncs: a snapshot sees only the last state.
    await setGrade(A, 6, '2026-03-02T16:00:00Z');
    await setGrade(A, 7, '2026-03-02T17:00:00Z');
    expect(await sync(DIM_LEARNER, '2026-03-02T18:00:00Z')).toMatchObject({ inserted: 1, updated: 1 });
    expect((await versions(A)).slice(-2).map(({ grade, from, to }) => [grade, from, to])).toEqual([
      [5, '2026-03-02T15:00', '2026-03-02T17:00'],
      [7, '2026-03-02T17:00', null],
    ]);
    await expectInvariants();
  });

  it(
    'a change the source did not stamp opens at the sync time; ' + 'a rejected update keeps the last good version',
    async () => {
      // updated_at untouched
      await dbs.oltp.query(`UPDATE platform.learners SET grade_level = 4 WHERE learner_id = $1`, [A]);
      await sync(DIM_LEARNER, '2026-03-03T06:00:00Z');
      expect((await versions(A)).map(({ grade, from }) => [grade, from])).toEqual([
        [3, '2025-06-01T00:00'],
        [4, '2026-03-03T06:00'],
      ]);
      await setGrade(B, 99, '2026-03-03T07:00:00Z');
      expect(await sync(DIM_LEARNER, '2026-03-03T08:00:00Z')).toMatchObject({
        processed: 3,
        rejected: 1,
        deleted: 0,
        inserted: 0,
      });
      expect(await versions(B)).toEqual([expect.objectContaining({ grade: 5, current: true })]);
      const rejects = await dbs.warehouse.query<{ reason: string; grade: number }>(
        `SELECT reason, (raw->>'grade_level')::int AS grade FROM etl_rejects WHERE job_name = 'sync_dim_learner'`,
      );
      expect(rejects.rows).toEqual([{ reason: 'grade_level outside 0..13', grade: 99 }]);
    },
  );

  it('the schema refuses a second current version and overlapping versions', async () => {
    const insert = (from: string, to: string | null, current: boolean) =>
      dbs.warehouse.query(
        `INSERT INTO dw.dim_learner (learner_id, tenant_id, grade_level, preferred_language, is_active, row_hash,
         effective_from, effective_to, is_current)
         VALUES ($1, $2, 1, 'en', true, 'x', $3, $4, $5)`,
        [A, T1, from, to, current],
      );
    // Two open versions always overlap, so whichever of the two guards Postgres checks first refuses it.
    await expect(insert('2026-04-01T00:00:00Z', null, true)).rejects.toThrow(/dim_learner_(one_current|no_overlap)/);
    const idx = await dbs.warehouse.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'dim_learner_one_current'`,
    );
    expect(idx.rows[0]!.indexdef).toMatch(/UNIQUE INDEX .* \(learner_id\) WHERE is_current/);
    await expect(insert('2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z', false)).rejects.toThrow(
      /dim_learner_no_overlap/,
    );
  });

  it('an empty source never closes every version', async () => {
    await dbs.oltp.query('DELETE FROM platform.learners');
    await expect(sync(DIM_LEARNER, '2026-03-09T00:00:00Z')).rejects.toThrow(/refusing to close them all/);
    expect((await dbs.warehouse.query('SELECT 1 FROM dw.dim_learner WHERE is_current')).rowCount).toBe(3);
  });

  it('tenant rename is a new tenant version; users are upserted in place and soft-deleted', async () => {
    await dbs.oltp.query(
      `UPDATE platform.tenants SET name = 'Northwind Learning Trust', updated_at = '2026-03-02T09:00:00Z'`,
    );
    expect(await sync(DIM_TENANT, '2026-03-02T10:00:00Z')).toMatchObject({ inserted: 1, updated: 1 });
    const t = await dbs.warehouse.query('SELECT tenant_name, is_current FROM dw.dim_tenant ORDER BY effective_from');
    expect(t.rows).toEqual([
      { tenant_name: 'Northwind Academy', is_current: false },
      { tenant_name: 'Northwind Learning Trust', is_current: true },
    ]);
    await expectInvariants('dw.dim_tenant', 'tenant_id');

    const U = 'bbbbbbbb-0000-0000-0000-000000000001';
    await dbs.oltp.query(
      `INSERT INTO platform.users (user_id, user_number, tenant_id, role, display_name, is_active, created_at,
       updated_at)
       VALUES ($1, 1, $2, 'teacher', 'Ada Chen', true, now(), now())`,
      [U, T1],
    );
    expect(await sync(DIM_USER, '2026-03-02T10:00:00Z')).toMatchObject({ inserted: 1 });
    const key = (await dbs.warehouse.query<{ user_key: number }>('SELECT user_key FROM dw.dim_user')).rows[0]!.user_key;
    await dbs.oltp.query(`UPDATE platform.users SET display_name = 'Ada Chen-Lopez'`);
    expect(await sync(DIM_USER, '2026-03-03T10:00:00Z')).toMatchObject({ inserted: 0, updated: 1 });
    expect(await sync(DIM_USER, '2026-03-03T11:00:00Z')).toMatchObject({ inserted: 0, updated: 0 });
    await dbs.oltp.query('DELETE FROM platform.users');
    await expect(sync(DIM_USER, '2026-03-04T10:00:00Z')).rejects.toThrow(/refusing/);
    const u = await dbs.warehouse.query('SELECT user_key, display_name FROM dw.dim_user');
    expect(u.rows).toEqual([{ user_key: key, display_name: 'Ada Chen-Lopez' }]);
  });

  it('a late-arriving fact joins the version valid at its event time, not the current one', async () => {
    const S = 'cccccccc-0000-0000-0000-000000000001';
    await dbs.oltp.query(
      `INSERT INTO platform.sessions (session_id, tenant_id, learner_id, subject_id, device, started_at, ended_at)
       VALUES ($1, $2, $3, 'MATH', 'web', '2026-03-02T08:50:00Z', '2026-03-02T13:30:00Z')`,
      [S, T1, A],
    );
    const event = (id: number, at: string, received: string) =>
      dbs.oltp.query(
        `INSERT INTO platform.session_events (event_id, session_id, event_type, duration_seconds, occurred_at,
         received_at)
         VALUES ($1, $2, 'focus_lost', 30, $3, $4)`,
        [id, S, at, received],
      );
    await event(1, '2026-03-02T13:00:00Z', '2026-03-02T13:00:05Z');
    // The learner moves up a grade at noon; the warehouse syncs it.
    await setGrade(A, 4, '2026-03-02T12:00:00Z');
    await sync(DIM_LEARNER, '2026-03-02T12:30:00Z');
    const [v1, v2] = await versions(A);

    const build = async () => {
      await ensureMonthPartition(dbs.warehouse, FACT_FOCUS_EVENTS.table, '2026-03-02');
      return withTransaction(dbs.warehouse, (tx) => buildFact(dbs.oltp, tx, FACT_FOCUS_EVENTS, '2026-03-02'));
    };
    await build();
    // An offline tablet delivers a 09:00 event the next afternoon, after the grade change was synced.
    await event(2, '2026-03-02T09:00:00Z', '2026-03-03T15:00:00Z');
    expect(await build()).toMatchObject({ processed: 2, inserted: 2, deleted: 1, rejected: 0 });
    const { rows } = await dbs.warehouse.query(
      'SELECT event_id::int, learner_key, is_late_arrival FROM dw.fact_focus_events ' +
        'WHERE date_key = 20260302 ORDER BY event_id',
    );
    expect(rows).toEqual([
      { event_id: 1, learner_key: v2!.key, is_late_arrival: false },
      { event_id: 2, learner_key: v1!.key, is_late_arrival: true },
    ]);
  });
});
