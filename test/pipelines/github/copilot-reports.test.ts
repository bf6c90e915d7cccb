// Copilot usage metrics reports through the real Octokit client against the local GitHub sample
// server and its separate report-file host: links then files (never with the token), streamed
// NDJSON, expired links re-requested, bad lines rejected with their file and line, 204 for a day
// not generated yet, reruns converging, the legacy endpoint only behind GITHUB_COPILOT_API=legacy,
// and the error table's rows for this endpoint.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGithubActivities } from '../../../src/pipelines/github/activities.js';
import { startGithubServer, type GithubServer } from '../../../src/pipelines/github/sample/server.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { count, depsFor, githubConfig, nodeInput } from '../../support/api-sources.js';

let db: TestDatabases;
let server: GithubServer;

const DAY_MS = 86_400_000;
const YESTERDAY = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
const ORG_1_DAY = '/orgs/sample-org/copilot/metrics/reports/organization-1-day';

beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  server = await startGithubServer({ users: 6, courses: 1 });
  await db.warehouse.query(
    'TRUNCATE github.copilot_daily, github.copilot_languages, github.copilot_user_daily, etl_rejects, ' +
      'etl_job_runs, api_hits',
  );
});
afterEach(async () => {
  await server?.close();
});

const activities = (env: Record<string, string> = {}) => createGithubActivities(depsFor(db, githubConfig(server, env)));
const sync = (targetDate: string, env: Record<string, string> = {}, force = true) =>
  activities(env).syncGithubCopilotMetrics(nodeInput('gh_copilot', {}, { targetDate, force }));

const checksum = async () =>
  (
    await db.warehouse.query<{ m: string }>(
      `SELECT md5(coalesce((SELECT string_agg(concat_ws('|', day, total_active_users, code_suggestions,
        lines_accepted, weekly_active_users), '/' ORDER BY day) FROM github.copilot_daily), '')
             || coalesce((SELECT string_agg(concat_ws('|', day, language, engaged_users, code_acceptances),
               '/' ORDER BY day, language) FROM github.copilot_languages), '')
             || coalesce((SELECT string_agg(concat_ws('|', day, user_id, code_generations, languages),
               '/' ORDER BY day, user_id) FROM github.copilot_user_daily), '')) AS m`,
    )
  ).rows[0]!.m;

describe('Copilot usage metrics reports', () => {
  it('loads the 1-day and 28-day organisation and users reports; files are fetched without the token', async () => {
    const r = await sync(YESTERDAY);
    const users = server.copilotUsersOn(YESTERDAY);
    expect(r.detail).toMatchObject({ api: 'reports', days: 28, targetDatePresent: true, linkRefreshes: 0 });
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_daily')).toBe(28);
    expect(
      await count(db.warehouse, `SELECT total_active_users FROM github.copilot_daily WHERE day = $1`, [YESTERDAY]),
    ).toBe(users.length);
    expect(
      await count(db.warehouse, `SELECT code_suggestions FROM github.copilot_daily WHERE day = $1`, [YESTERDAY]),
    ).toBe(users.reduce((s, u) => s + u.code_generation_activity_count, 0));
    expect(
      await count(db.warehouse, 'SELECT count(*) FROM github.copilot_user_daily WHERE day = $1', [YESTERDAY]),
    ).toBe(users.length);
    // engaged users per language come from the users report
    const python = users.filter((u) => u.totals_by_language_feature.some((l) => l.language === 'python')).length;
    expect(
      await count(
        db.warehouse,
        `SELECT coalesce(max(engaged_users), 0) FROM github.copilot_languages WHERE day = $1 AND language = 'python'`,
        [YESTERDAY],
      ),
    ).toBe(python);
    expect(r.rejected).toBe(0);
    // the files came from the storage host, every request without an Authorization header (it answers 400 to one)
    expect(server.reports.stats.total).toBeGreaterThanOrEqual(4);
    expect(server.reports.stats.log.every((e) => e.status === 200)).toBe(true);
  });

  it('a rerun converges; a backfill date older than 28 days reads only its 1-day reports', async () => {
    await sync(YESTERDAY);
    const first = await checksum();
    await sync(YESTERDAY);
    expect(await checksum()).toBe(first);
    server.stats.reset();
    const old = new Date(Date.now() - 40 * DAY_MS).toISOString().slice(0, 10);
    const r = await sync(old);
    expect(r.detail).toMatchObject({ days: 1, targetDatePresent: true });
    expect(server.stats.log.map((e) => e.path).sort()).toEqual([
      ORG_1_DAY,
      '/orgs/sample-org/copilot/metrics/reports/users-1-day',
    ]);
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_user_daily WHERE day = $1', [old])).toBe(
      server.copilotUsersOn(old).length,
    );
  });

  it('an expired signed link is replaced by fresh links; links that keep failing fail the job', async () => {
    server.reports.refuseNext(1);
    const r = await sync(YESTERDAY);
    expect(r.detail).toMatchObject({ linkRefreshes: 1, days: 28 });
    expect(server.stats.count(ORG_1_DAY)).toBe(2);
    server.reports.refuseNext(100);
    await expect(sync(YESTERDAY)).rejects.toMatchObject({
      name: 'PermissionError',
      message: expect.stringContaining('Signed expiry time has passed'),
    });
  });

  it('bad report lines are rejected with their file and line; the good ones load', async () => {
    server.addReportNoise([
      '{"day": "2020-01-01", "user_id": 1, "user_login": "x"',
      '{"day": "BAD", "user_id": 7, "user_login": "y"}',
    ]);
    const r = await sync(YESTERDAY);
    expect(r.rejected).toBe(2);
    const reasons = (
      await db.warehouse.query<{ reason: string }>(`SELECT reason FROM etl_rejects ORDER BY reason`)
    ).rows.map((x) => x.reason);
    expect(reasons).toHaveLength(2);
    expect(
      reasons.some((x) =>
        /users-1-day of sample-org: file \d line \d+: invalid record: day not a YYYY-MM-DD day/.test(x),
      ),
    ).toBe(true);
    expect(reasons.some((x) => /users-1-day of sample-org: file \d line \d+: not JSON/.test(x))).toBe(true);
    expect(
      await count(db.warehouse, 'SELECT count(*) FROM github.copilot_user_daily WHERE day = $1', [YESTERDAY]),
    ).toBe(server.copilotUsersOn(YESTERDAY).length);
  });

  it('a day GitHub has not generated yet (204) is not an error: the run says so and loads what exists', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await sync(today);
    expect(r.detail).toMatchObject({ targetDatePresent: false, days: 28 });
    expect((r.detail as { notReady: string }).notReady).toContain('sample-org organization-1-day');
    expect(await count(db.warehouse, 'SELECT count(*) FROM github.copilot_daily WHERE day = $1', [today])).toBe(0);
  });

  it('reads the enterprise reports too when GITHUB_ENTERPRISE is set', async () => {
    await sync(YESTERDAY, { GITHUB_ENTERPRISE: server.enterprise });
    expect(
      await count(db.warehouse, `SELECT count(*) FROM github.copilot_daily WHERE org = $1`, [
        `enterprise:${server.enterprise}`,
      ]),
    ).toBe(28);
  });
});

describe('Copilot metrics: the legacy endpoint and the error table', () => {
  it('GITHUB_COPILOT_API=legacy reads /orgs/{org}/copilot/metrics where a server still has it', async () => {
    await server.close();
    server = await startGithubServer({ users: 3, courses: 1, legacyCopilotMetrics: true });
    const r = await sync(YESTERDAY, { GITHUB_COPILOT_API: 'legacy' });
    expect(r.detail).toMatchObject({ days: 28 });
    expect(await count(db.warehouse, `SELECT count(*) FROM github.copilot_daily WHERE metrics_source = 'legacy'`)).toBe(
      28,
    );
  });

  it('the legacy endpoint against today’s GitHub: 404 is a ConfigError naming the setting', async () => {
    await expect(sync(YESTERDAY, { GITHUB_COPILOT_API: 'legacy' })).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('GITHUB_COPILOT_API'),
    });
    expect(server.stats.total).toBe(1);
  });

  it('403 without rate-limit signs is a PermissionError naming the endpoint and the scope, never retried', async () => {
    server.inject({
      path: ORG_1_DAY,
      times: 5,
      respond: { status: 403, body: { message: 'Resource not accessible by integration' } },
    });
    await expect(sync(YESTERDAY)).rejects.toMatchObject({
      name: 'PermissionError',
      message: expect.stringMatching(/organization-1-day.*read:org/),
    });
    expect(server.stats.count(ORG_1_DAY)).toBe(1);
  });

  it('403 rate limit that outlasts the client retries stays retryable, with the wait GitHub announced', async () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 120);
    server.inject({
      path: ORG_1_DAY,
      times: 10,
      respond: {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset, 'retry-after': '90' },
        body: { message: 'API rate limit exceeded for user ID 1.' },
      },
    });
    const err = (await sync(YESTERDAY).catch((e: unknown) => e)) as {
      name: string;
      type?: string;
      nonRetryable?: boolean;
      nextRetryDelay?: number;
    };
    expect(err.type).toBe('RetryableError');
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(90_000);
  });

  it('401 Bad credentials is an AuthError at once', async () => {
    await expect(sync(YESTERDAY, { GITHUB_TOKEN: 'wrong' })).rejects.toMatchObject({ name: 'AuthError', status: 401 });
    expect(server.stats.total).toBe(1);
  });
});
