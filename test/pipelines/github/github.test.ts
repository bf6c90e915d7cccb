// GitHub → warehouse through the real Octokit client (throttling + retry plugins) against the
// local GitHub sample server: conditional requests and 304s, primary and secondary rate limits,
// 5xx bursts, malformed answers, incremental enrolments and resuming a crashed walk.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGithubActivities } from '../../../src/pipelines/github/activities.js';
import { startGithubServer, type GithubServer } from '../../../src/pipelines/github/sample/server.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { count, depsFor, githubConfig, hitsOf, nodeInput } from '../../support/api-sources.js';

let db: TestDatabases;
let server: GithubServer;
let act: ReturnType<typeof createGithubActivities>;

const EVENTS_EP = '/users/{username}/events';
/** Yesterday (UTC): the target date a nightly run has, inside the 28-day Copilot report. */
const DATE = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  server = await startGithubServer({ users: 5, courses: 3, forksPerCourse: 20, maxEventsPerUser: 160 });
  act = createGithubActivities(depsFor(db, githubConfig(server, { GITHUB_TRACKED_USERS: server.usernames.join(',') })));
  await db.warehouse
    .query(`TRUNCATE github.tracked_users, github.copilot_daily, github.copilot_languages, github.activity,
      github.skills_courses, github.skills_enrollments, github.copilot_user_daily, api_http_cache, etl_cursors,
      etl_rejects, etl_job_runs, api_hits, api_extract_progress`);
});
afterEach(async () => {
  await server?.close();
});

const run = (
  activity: keyof typeof act,
  id: string,
  opts: { targetDate?: string; force?: boolean } = { targetDate: DATE },
) => act[activity](nodeInput(id, {}, opts));
const totalEvents = () => server.usernames.reduce((s, u) => s + server.eventCount(u), 0);
const totalForks = () => server.courseNames.reduce((s, c) => s + server.forkCount(c), 0);

describe('GitHub nightly', () => {
  it("loads Copilot metrics, Skills courses, enrolments and learners' events; api_hits match the server", async () => {
    const copilot = await run('syncGithubCopilotMetrics', 'gh_copilot');
    const skills = await run('syncGithubSkills', 'gh_skills');
    const events = await run('syncGithubUserEvents', 'gh_events');
    expect(copilot.detail).toMatchObject({ api: 'reports', days: 28, targetDatePresent: true });
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_daily')).toBe(28);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_languages')).toBeGreaterThan(28);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.skills_courses')).toBe(3);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.skills_enrollments')).toBe(totalForks());
    expect(skills.inserted).toBe(3 + totalForks());
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.activity')).toBe(totalEvents());
    expect(events.rows).toBe(totalEvents());
    const recorded = (await Promise.all(['gh_copilot', 'gh_skills', 'gh_events'].map((j) => hitsOf(db.warehouse, j))))
      .flatMap((h) => Object.values(h))
      .reduce((s, h) => s + h.calls, 0);
    // API calls plus the report files fetched from their signed links.
    expect(recorded).toBe(server.stats.total + server.reports.stats.total);
    const hits = await hitsOf(db.warehouse, 'gh_events');
    expect(hits[EVENTS_EP]!.rate_limit_remaining).toBe(5000 - server.stats.total);
    expect(events.detail).toMatchObject({ rateLimitRemaining: 5000 - server.stats.total });
  });

  it('sends stored ETags back: unchanged resources are 304s, cache hits, free, stored data reused', async () => {
    await run('syncGithubSkills', 'gh_skills');
    await run('syncGithubUserEvents', 'gh_events', {});
    const spent = server.stats.total;
    server.stats.reset();
    const skills = await run('syncGithubSkills', 'gh_skills', { targetDate: '2026-01-11' });
    const events = await run('syncGithubUserEvents', 'gh_events', {});
    expect(server.stats.log.every((e) => e.status === 304)).toBe(true);
    expect(server.stats.total).toBe(1 + 3 + 5);
    expect(skills.detail).toMatchObject({ cacheHits: 4, newEnrollments: 0 });
    expect(events.detail).toMatchObject({ cacheHits: 5, unchanged: 5, rateLimitRemaining: 5000 - spent });
    expect((await hitsOf(db.warehouse, 'gh_events'))[EVENTS_EP]).toMatchObject({ cache_hits: 5 });
    expect(
      await count(
        db.warehouse,
        `SELECT sum(not_modified_count) FROM api_http_cache WHERE cache_key LIKE 'github:events:%'`,
      ),
    ).toBe(5);
  });

  it('fetches only what changed: new events of one learner, new forks of one course', async () => {
    await run('syncGithubSkills', 'gh_skills');
    await run('syncGithubUserEvents', 'gh_events', {});
    server.addEvents('learner-2', 7);
    server.addForks(server.courseNames[1]!, 4);
    server.stats.reset();
    const events = await run('syncGithubUserEvents', 'gh_events', {});
    const skills = await run('syncGithubSkills', 'gh_skills', { targetDate: '2026-01-11' });
    expect(events.inserted).toBe(7);
    expect(events.detail).toMatchObject({ unchanged: 4 });
    expect(skills.detail).toMatchObject({ newEnrollments: 4 });
    expect(
      server.stats.log
        .filter((e) => e.status === 200)
        .map((e) => e.path)
        .sort(),
    ).toEqual(
      // The course list changed too (forks_count, updated_at of that course).
      ['/orgs/skills/repos', `/repos/skills/${server.courseNames[1]}/forks`, '/users/learner-2/events'].sort(),
    );
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.activity')).toBe(totalEvents());
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.skills_enrollments')).toBe(totalForks());
  });
});

describe('GitHub schema edges', () => {
  it('events and forks with null type / created_at (nullable in GitHub’s schema) load, not reject', async () => {
    act = createGithubActivities(depsFor(db, githubConfig(server, { GITHUB_TRACKED_USERS: 'learner-1' })));
    const event = (id: string, type: string | null, created: string | null) => ({
      id,
      type,
      actor: { id: 1, login: 'learner-1' },
      repo: { id: 2, name: 'learner-1/x' },
      payload: {},
      public: true,
      created_at: created,
    });
    server.inject({
      path: '/users/learner-1/events',
      times: 1,
      respond: {
        status: 200,
        body: [event('91', null, '2026-01-01T00:00:00Z'), event('90', 'PushEvent', null)],
      },
    });
    const course = server.courseNames[0]!;
    server.inject({
      path: `/repos/skills/${course}/forks`,
      times: 1,
      respond: { status: 200, body: [{ id: 77, owner: { login: 'someone', id: 5 }, created_at: null }] },
    });
    const events = await run('syncGithubUserEvents', 'gh_events', {});
    const skills = await run('syncGithubSkills', 'gh_skills');
    expect(events.rejected).toBe(0);
    expect(skills.rejected).toBe(0);
    expect(
      await count(db.warehouse, `SELECT count(*) FROM github.activity WHERE (type IS NULL) <> (created_at IS NULL)`),
    ).toBe(2);
    expect(
      await count(
        db.warehouse,
        `SELECT count(*) FROM github.skills_enrollments WHERE fork_id = 77 AND created_at IS NULL`,
      ),
    ).toBe(1);
  });
});

describe('GitHub rate limits and errors', () => {
  it('honours the primary rate limit: waits for the reset announced in the headers, then carries on', async () => {
    act = createGithubActivities(
      depsFor(
        db,
        githubConfig(server, { GITHUB_TRACKED_USERS: server.usernames.slice(0, 2).join(','), API_BACKOFF_SCALE: '1' }),
      ),
    );
    server.exhaustRateLimit(800);
    const t0 = Date.now();
    await run('syncGithubUserEvents', 'gh_events', {});
    const refused = server.stats.log.filter((e) => e.status === 403);
    expect(refused).toHaveLength(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect((await hitsOf(db.warehouse, 'gh_events'))[EVENTS_EP]).toMatchObject({ throttled: 1, retries: 1 });
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.activity')).toBe(
      server.eventCount('learner-1') + server.eventCount('learner-2'),
    );
  });

  it('honours secondary rate limits (403 with Retry-After) and retries 5xx bursts', async () => {
    server.inject({
      path: '/users/learner-3/events',
      times: 2,
      respond: {
        status: 403,
        headers: { 'retry-after': '1' },
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      },
    });
    server.inject({
      path: `/orgs/${server.org}/copilot/metrics/reports/organization-1-day`,
      times: 2,
      respond: { status: 502 },
    });
    await run('syncGithubUserEvents', 'gh_events', {});
    await run('syncGithubCopilotMetrics', 'gh_copilot');
    expect(server.stats.count('/users/learner-3/events', 1)).toBe(3);
    expect((await hitsOf(db.warehouse, 'gh_events'))[EVENTS_EP]).toMatchObject({ throttled: 2 });
    expect(
      (await hitsOf(db.warehouse, 'gh_copilot'))['/orgs/{org}/copilot/metrics/reports/organization-1-day'],
    ).toMatchObject({
      calls: 3,
      errors: 2,
      retries: 2,
    });
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.activity')).toBe(totalEvents());
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_daily')).toBe(28);
  });

  it('rejects a malformed answer into etl_rejects and goes on with the other learners', async () => {
    server.inject({ path: '/users/learner-4/events', times: 1, respond: { malformed: true } });
    const r = await run('syncGithubUserEvents', 'gh_events', {});
    expect(r.rejected).toBe(1);
    const rej = await db.warehouse.query<{ reason: string }>(
      `SELECT reason FROM etl_rejects WHERE job_name = 'gh_events'`,
    );
    expect(rej.rows.map((x) => x.reason)).toEqual(['event of learner-4: answer is not a JSON array']);
    expect(await count(db.warehouse, `SELECT count(*) FROM github.activity WHERE username <> 'learner-4'`)).toBe(
      totalEvents() - server.eventCount('learner-4'),
    );
  });

  it('401 Bad credentials on repositories and forks is an AuthError too, sent once', async () => {
    act = createGithubActivities(depsFor(db, githubConfig(server, { GITHUB_TOKEN: 'wrong' })));
    await expect(run('syncGithubSkills', 'gh_skills')).rejects.toMatchObject({ name: 'AuthError' });
    expect(server.stats.total).toBe(1);
    server.stats.reset();
    server.inject({
      path: `/repos/skills/${server.courseNames[0]}/forks`,
      times: 1,
      respond: { status: 401, body: { message: 'Bad credentials' } },
    });
    act = createGithubActivities(depsFor(db, githubConfig(server)));
    await expect(run('syncGithubSkills', 'gh_skills')).rejects.toMatchObject({
      name: 'AuthError',
      message: expect.stringContaining('GITHUB_TOKEN'),
    });
    expect(server.stats.count(`/repos/skills/${server.courseNames[0]}/forks`)).toBe(1);
  });

  it('refuses a bad token as a 401 without retrying', async () => {
    act = createGithubActivities(
      depsFor(db, githubConfig(server, { GITHUB_TOKEN: 'wrong', GITHUB_TRACKED_USERS: 'learner-1' })),
    );
    await expect(run('syncGithubUserEvents', 'gh_events', {})).rejects.toMatchObject({
      status: 401,
      name: 'AuthError',
    });
    expect(server.stats.total).toBe(1);
  });
});

describe('GitHub resumable extraction', () => {
  it("a crashed walk over a course's forks resumes at the first uncommitted page", async () => {
    const course = server.courseNames[0]!;
    server.addForks(course, 260);
    const path = `/repos/skills/${course}/forks`;
    server.inject({ path, page: 3, times: 4, respond: { status: 500 } });
    await expect(run('syncGithubSkills', 'gh_skills')).rejects.toThrow();
    const committed = await count(db.warehouse, 'SELECT count(*) FROM github.skills_enrollments');
    expect(committed).toBe(200);
    server.clearFailures();
    await run('syncGithubSkills', 'gh_skills');
    expect(server.stats.count(path, 1)).toBe(1);
    expect(server.stats.count(path, 2)).toBe(1);
    expect(server.stats.count(path, 3)).toBe(5);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.skills_enrollments')).toBe(totalForks());
    // The page-1 ETag was stored only once the walk completed: the next run answers 304.
    server.stats.reset();
    await run('syncGithubSkills', 'gh_skills', { targetDate: '2026-01-11' });
    expect(server.stats.log.filter((e) => e.path === path).map((e) => e.status)).toEqual([304]);
  });

  it('a crash on one learner resumes with that learner: the ones committed are not fetched again', async () => {
    server.inject({ path: '/users/learner-3/events', times: 4, respond: { status: 500 } });
    await expect(run('syncGithubUserEvents', 'gh_events', {})).rejects.toThrow();
    server.clearFailures();
    await run('syncGithubUserEvents', 'gh_events', {});
    expect(server.stats.count('/users/learner-1/events', 1)).toBe(1);
    expect(server.stats.count('/users/learner-2/events', 1)).toBe(1);
    expect(server.stats.count('/users/learner-3/events', 1)).toBe(5);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.activity')).toBe(totalEvents());
  });
});
