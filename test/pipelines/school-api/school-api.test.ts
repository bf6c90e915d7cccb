// School REST API → warehouse, against the local sample server with the real fetch client:
// bootstrap, incremental windows, pagination edges, OAuth expiry and refresh, 429/5xx handling,
// malformed pages, boundary timestamps and resuming a crashed extraction without refetching.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSchoolApiActivities } from '../../../src/pipelines/school-api/activities.js';
import type { Config } from '../../../src/config.js';
import { startSchoolApiServer, type SchoolApiServer } from '../../../src/pipelines/school-api/sample/server.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { count, cursor, depsFor, hitsOf, nodeInput, schoolConfig } from '../../support/api-sources.js';

const SIZES = {
  cursus: 3,
  campuses: 4,
  projects: 25,
  achievements: 30,
  coalitions: 6,
  users: 60,
  projectsUsers: 120,
  achievementsUsers: 40,
  coalitionsUsers: 30,
};
const USERS_EP = '/v2/cursus/{id}/users';
const USERS_PATH = '/v2/cursus/21/users';
const PU_PATH = '/v2/projects_users';

let db: TestDatabases;
let server: SchoolApiServer;
let config: Config;
let act: ReturnType<typeof createSchoolApiActivities>;

beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  server = await startSchoolApiServer({ sizes: SIZES });
  config = schoolConfig(server);
  act = createSchoolApiActivities(depsFor(db, config));
  await db.warehouse.query(
    `TRUNCATE school.cursus, school.campuses, school.projects, school.achievements, school.coalitions, school.users,
    school.projects_users, school.achievements_users, school.coalitions_users, etl_cursors, etl_rejects, ` +
      `etl_job_runs, api_hits, api_extract_progress`,
  );
});
afterEach(async () => {
  await server?.close();
});

const bootstrap = (tables: string[], id = 'school_boot') =>
  act.syncSchoolTables(nodeInput(id, { tables }, { targetDate: '2026-01-10', force: true }));
const incremental = (tables: string[], id = 'school_inc') => act.syncSchoolTables(nodeInput(id, { tables }));
const scopeUsers = () => server.count('users', { cursusId: 21, kind: 'student', alumni: false });

describe('school API bootstrap', () => {
  it(
    'loads every table within the configured scope, ' + 'records the calls per endpoint and sets both cursors',
    async () => {
      const r = await bootstrap([
        'cursus',
        'campuses',
        'projects',
        'achievements',
        'coalitions',
        'users',
        'projects_users',
        'achievements_users',
        'coalitions_users',
      ]);
      expect(r.skipped).toBeFalsy();
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.users')).toBe(scopeUsers());
      expect(
        await count(
          db.warehouse,
          `SELECT count(*) FROM school.users WHERE cursus_id <> 21 OR kind <> 'student' OR alumni`,
        ),
      ).toBe(0);
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
        server.count('projects_users', { cursusId: 21 }),
      );
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects')).toBe(
        server.count('projects', { cursusId: 21 }),
      );
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.coalitions_users')).toBe(30);
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.student_projects')).toBeGreaterThan(0);

      // Every request the server saw is in api_hits, endpoint by endpoint.
      const hits = await hitsOf(db.warehouse, 'school_boot');
      const recorded = Object.values(hits).reduce((s, h) => s + h.calls, 0);
      expect(recorded).toBe(server.stats.total);
      expect(hits[USERS_EP]!.calls).toBe(Math.floor(scopeUsers() / 10) + 1);
      expect(hits['POST /oauth/token']!.calls).toBe(1);
      expect(hits[USERS_EP]!.rate_limit_remaining).toBeGreaterThan(0);

      const maxUpdated = await db.warehouse.query<{ v: string }>(
        `SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS v FROM school.users`,
      );
      expect(await cursor(db.warehouse, 'school-api:users:updated_at:nightly')).toBe(maxUpdated.rows[0]!.v);
      expect(await cursor(db.warehouse, 'school-api:users:updated_at:incremental')).toBe(maxUpdated.rows[0]!.v);
      const ledger = await db.warehouse.query(
        `SELECT status, rows_processed FROM etl_job_runs WHERE job_name = 'school_boot'`,
      );
      expect(ledger.rows).toEqual([{ status: 'SUCCESS', rows_processed: r.rows }]);
    },
  );

  it('skips a nightly job that already succeeded for its date, spending no call', async () => {
    await act.syncSchoolTables(nodeInput('school_ref', { tables: ['cursus'] }, { targetDate: '2026-01-10' }));
    const before = server.stats.total;
    const again = await act.syncSchoolTables(
      nodeInput('school_ref', { tables: ['cursus'] }, { targetDate: '2026-01-10' }),
    );
    expect(again.skipped).toBe(true);
    expect(server.stats.total).toBe(before);
  });
});

describe('school API incremental', () => {
  it('reads only the records changed since the cursor, one page for a few changes', async () => {
    await bootstrap(['users', 'projects_users']);
    server.stats.reset();
    const touched = server.touchRandom('projects_users', 5);
    const r = await incremental(['projects_users']);
    expect(server.stats.count(PU_PATH)).toBe(1);
    expect(r.rows).toBeGreaterThanOrEqual(1);
    expect(r.rows).toBeLessThanOrEqual(touched.length + 1); // those in cursus 21, + the boundary record read again
    const q = server.stats.log.find((e) => e.path === PU_PATH)!.query;
    expect(decodeURIComponent(q)).toMatch(/range\[updated_at\]=\d{4}-\d\d-\d\dT[^,]+,\d{4}-/);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
      server.count('projects_users', { cursusId: 21 }),
    );
  });

  it.each([
    ['no change at all', 0, 1],
    ['a last page that is short', 25, 3],
    ['an exact multiple of the page size (one empty page ends it)', 20, 3],
  ])('pagination edge: %s', async (_name, changes, expectedPages) => {
    await bootstrap(['achievements_users']);
    const boundary = await cursor(db.warehouse, 'school-api:achievements_users:updated_at:incremental');
    // The boundary record (updated exactly at the cursor) is read again; make the counts exact by
    // moving it back in time first, so the window holds just the touched records.
    const { rows } = await db.warehouse.query<{ id: number }>(
      'SELECT id FROM school.achievements_users WHERE updated_at = $1',
      [boundary],
    );
    for (const { id } of rows) server.update('achievements_users', id, {}, '2020-01-01T00:00:00Z');
    const future = new Date(Date.now() - 1000);
    const ids = server
      .ids('achievements_users')
      .filter((id) => !rows.some((r) => r.id === id))
      .slice(0, changes);
    server.touch('achievements_users', ids, future);
    server.stats.reset();
    const r = await incremental(['achievements_users']);
    expect(server.stats.count('/v2/achievements_users')).toBe(expectedPages);
    expect(r.rows).toBe(changes);
    expect(
      await count(db.warehouse, 'SELECT count(*) FROM school.achievements_users WHERE updated_at = $1', [future]),
    ).toBe(changes);
  });

  it('never loses records that share the boundary timestamp across two incremental runs', async () => {
    await bootstrap(['coalitions_users']);
    const boundary = await count(
      db.warehouse,
      `SELECT count(*) FROM school.coalitions_users
        WHERE updated_at = (SELECT max(updated_at) FROM school.coalitions_users) AND id NOT IN (3, 4)`,
    );
    const t = new Date(Date.now() - 5000);
    server.touch('coalitions_users', [3, 4], t);
    const first = await incremental(['coalitions_users']);
    expect(first.rows).toBe(2 + boundary); // the bootstrap's boundary records are read again (>=)
    expect(await cursor(db.warehouse, 'school-api:coalitions_users:updated_at:incremental')).toBe(t.toISOString());
    // A record committed late on the API side with the very same updated_at as the cursor.
    server.update('coalitions_users', 7, { score: 999_999 }, t);
    const second = await incremental(['coalitions_users']);
    expect(second.rows).toBe(3); // 3, 4 again (>=) and 7; merged on the primary key
    const scores = await db.warehouse.query<{ id: number; score: number }>(
      'SELECT id, score FROM school.coalitions_users WHERE id = 7',
    );
    expect(scores.rows).toEqual([{ id: 7, score: 999_999 }]);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.coalitions_users')).toBe(30);
  });

  it('removes a student who left the scope (became alumni) on the next window', async () => {
    await bootstrap(['users']);
    const { rows } = await db.warehouse.query<{ id: number }>('SELECT id FROM school.users ORDER BY id LIMIT 1');
    const id = rows[0]!.id;
    server.update('users', id, { 'alumni?': true }, new Date(Date.now() - 1000));
    const r = await incremental(['users']);
    expect(r.deleted).toBe(1);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.users WHERE id = $1', [id])).toBe(0);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.users')).toBe(scopeUsers());
  });
});

describe('school API OAuth', () => {
  it('refreshes a token before it expires, mid-run, without a single 401', async () => {
    await server.close();
    server = await startSchoolApiServer({ sizes: SIZES, tokenTtlSeconds: 1 });
    // 40 ms between calls over ~13 pages: the 1 s token runs out mid-run (refreshed at half-life).
    act = createSchoolApiActivities(depsFor(db, schoolConfig(server, { SLEEP_BETWEEN_CALLS: '0.08' })));
    await bootstrap(['projects_users']);
    expect(server.tokensIssued()).toBeGreaterThanOrEqual(2);
    expect(server.stats.log.filter((e) => e.status === 401)).toHaveLength(0);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
      server.count('projects_users', { cursusId: 21 }),
    );
  });

  it('on a 401 drops the token, fetches a new one and retries once', async () => {
    server.inject({ path: PU_PATH, page: 3, times: 1, respond: { revokeTokens: true } });
    await bootstrap(['projects_users']);
    expect(server.stats.log.filter((e) => e.status === 401)).toHaveLength(1);
    expect(server.tokensIssued()).toBe(2);
    expect(server.stats.count(PU_PATH, 3)).toBe(2);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
      server.count('projects_users', { cursusId: 21 }),
    );
  });

  it('fails with AuthError, not retried, when the credentials are wrong', async () => {
    act = createSchoolApiActivities(depsFor(db, schoolConfig(server, { SCHOOL_API_CLIENT_SECRET: 'wrong' })));
    await expect(bootstrap(['cursus'])).rejects.toMatchObject({ name: 'AuthError' });
    expect(server.stats.count('/oauth/token')).toBe(1);
  });
});

describe('school API rate limits and server errors', () => {
  it('waits out a 429 with Retry-After and one without (backoff), and counts them', async () => {
    server.inject({ path: USERS_PATH, page: 2, times: 1, respond: { status: 429, headers: { 'retry-after': '2' } } });
    server.inject({ path: USERS_PATH, page: 3, times: 2, respond: { status: 429 } });
    await bootstrap(['users']);
    expect(server.stats.count(USERS_PATH, 2)).toBe(2);
    expect(server.stats.count(USERS_PATH, 3)).toBe(3);
    const hits = await hitsOf(db.warehouse, 'school_boot');
    expect(hits[USERS_EP]).toMatchObject({ throttled: 3, retries: 3 });
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.users')).toBe(scopeUsers());
  });

  it('honours a real per-second limit with SLEEP_BETWEEN_CALLS = 0', async () => {
    await server.close();
    server = await startSchoolApiServer({ sizes: SIZES, perSecondLimit: 3 });
    // Retry-After: 1 taken at face value (scale 1): the server's one-second window has passed by then.
    act = createSchoolApiActivities(depsFor(db, schoolConfig(server, { API_BACKOFF_SCALE: '1' })));
    await bootstrap(['users']);
    expect(server.stats.log.some((e) => e.status === 429)).toBe(true);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.users')).toBe(scopeUsers());
  });

  it('rides out a burst of 5xx answers', async () => {
    server.inject({ path: PU_PATH, page: 2, times: 3, respond: { status: 503 } });
    await bootstrap(['projects_users']);
    expect(server.stats.count(PU_PATH, 2)).toBe(4);
    expect((await hitsOf(db.warehouse, 'school_boot'))['/v2/projects_users']).toMatchObject({ errors: 3, retries: 3 });
  });

  it('rejects a page of malformed JSON into etl_rejects with its page number and carries on', async () => {
    server.inject({ path: PU_PATH, page: 2, times: 5, respond: { malformed: true } });
    const r = await bootstrap(['projects_users']);
    expect(r.rejected).toBe(1);
    const rej = await db.warehouse.query<{ reason: string; raw: { page: number; endpoint: string; body: string } }>(
      `SELECT reason, raw FROM etl_rejects WHERE job_name = 'school_boot'`,
    );
    expect(rej.rows).toHaveLength(1);
    expect(rej.rows[0]!.reason).toMatch(/malformed page 2/);
    expect(rej.rows[0]!.raw).toMatchObject({ page: 2, endpoint: '/v2/projects_users' });
    expect(rej.rows[0]!.raw.body).toContain('trunc');
    // Page 2 was tried twice (one re-fetch), the other pages once; their rows are all there.
    expect(server.stats.count(PU_PATH, 2)).toBe(2);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
      server.count('projects_users', { cursusId: 21 }) - 10,
    );
  });

  it('rejects invalid items one by one and reconciles read = loaded + rejected', async () => {
    server.update('coalitions_users', 5, { user_id: 'not-a-number' });
    server.update('coalitions_users', 6, { coalition_id: null });
    const r = await bootstrap(['coalitions_users']);
    expect(r.rows).toBe(30);
    expect(r.rejected).toBe(2);
    expect(await count(db.warehouse, 'SELECT count(*) FROM school.coalitions_users')).toBe(28);
    expect(
      await count(db.warehouse, `SELECT count(*) FROM etl_rejects WHERE reason LIKE 'invalid coalitions_users item%'`),
    ).toBe(2);
  });
});

describe('school API resumable extraction', () => {
  it('heartbeats each page with the rows already committed', async () => {
    const env = new MockActivityEnvironment({ attempt: 1 });
    const beats: { table: string; page: number; rowsCommitted: number }[] = [];
    env.on('heartbeat', (d: (typeof beats)[number]) => {
      if (d && typeof d.page === 'number') beats.push(d);
    });
    await env.run(() => bootstrap(['projects_users']));
    const pages = Math.floor(server.count('projects_users', { cursusId: 21 }) / 10) + 1;
    expect(beats.map((b) => b.page)).toEqual(Array.from({ length: pages }, (_, i) => i + 1));
    expect(beats.map((b) => b.rowsCommitted)).toEqual(Array.from({ length: pages }, (_, i) => i * 10));
  });

  it(
    'after a crash mid-pagination, resumes at the first uncommitted page: ' + 'no committed page is fetched twice',
    async () => {
      await bootstrap(['projects_users']);
      const before = await cursor(db.warehouse, 'school-api:projects_users:updated_at:incremental');
      server.touchRandom('projects_users', 60, new Date(Date.now() - 1000));
      const inWindow = server.count('projects_users', { cursusId: 21 });
      expect(inWindow).toBeGreaterThan(0);
      server.stats.reset();
      // Page 4 keeps failing past the retries: the attempt dies after committing pages 1–3.
      server.inject({ path: PU_PATH, page: 4, times: 4, respond: { status: 500 } });
      await expect(incremental(['projects_users'])).rejects.toThrow(/still answered 500/);
      const progress = await db.warehouse.query(
        `SELECT state, next_page, pages_committed FROM api_extract_progress WHERE job_name = 'school_inc'`,
      );
      expect(progress.rows).toEqual([{ state: 'running', next_page: 4, pages_committed: 3 }]);
      // never moves after a failure
      expect(await cursor(db.warehouse, 'school-api:projects_users:updated_at:incremental')).toBe(before);
      const failed = await db.warehouse.query(`SELECT status FROM etl_job_runs WHERE job_name = 'school_inc'`);
      expect(failed.rows).toEqual([{ status: 'FAILED' }]);
      const spentBefore = (await hitsOf(db.warehouse, 'school_inc'))['/v2/projects_users']!.calls;
      expect(spentBefore).toBe(3 + 4); // recorded even though the attempt failed

      server.clearFailures();
      await incremental(['projects_users']);
      for (const page of [1, 2, 3]) expect(server.stats.count(PU_PATH, page)).toBe(1);
      expect(server.stats.count(PU_PATH, 4)).toBe(5);
      const after = await hitsOf(db.warehouse, 'school_inc');
      expect(after['/v2/projects_users']!.calls).toBe(server.stats.count(PU_PATH));
      expect(await cursor(db.warehouse, 'school-api:projects_users:updated_at:incremental')).not.toBe(before);
      expect(
        await count(
          db.warehouse,
          `SELECT count(*) FROM api_extract_progress WHERE job_name = 'school_inc' AND state = 'idle'`,
        ),
      ).toBe(1);
      const { rows } = await db.warehouse.query<{ n: number; s: string }>(
        'SELECT count(*)::int AS n, sum(final_mark)::text AS s FROM school.projects_users',
      );
      expect(rows[0]!.n).toBe(server.count('projects_users', { cursusId: 21 }));
    },
  );
});
