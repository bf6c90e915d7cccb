// GitHub → warehouse (schema github): Copilot metrics of the organisation, public events of the
// learners the warehouse knows (github.tracked_users), and GitHub Skills courses with their
// enrolments (forks). Conditional requests everywhere a resource may be unchanged: the stored
// ETag / Last-Modified are sent back and a 304 reuses what is stored (a cache hit, free of rate
// limit). Units of work (a user, a page of forks) commit one at a time with their progress, so a
// retry continues after the last committed one.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { GithubClient, nextLink } from '../../connectors/github/client.js';
import { ConfigError } from '../../errors.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps, GithubEndpoint } from '../../runtime/deps.js';
import { cancellationSignal } from '../../runtime/activity-context.js';
import { reportPosition, startHeartbeat } from '../../runtime/heartbeat.js';
import { ApiHitRecorder } from '../../runtime/ledger/api-hits.js';
import type { JobCounts } from '../../runtime/ledger/job-runner.js';
import { runPagedLedgeredJob, type PagedJob } from '../../runtime/ledger/paged-job-runner.js';
import { loadCopilotReport, scopeKey } from './copilot-reports.js';
import type { CopilotReport, CopilotScope } from '../../connectors/github/reports.js';
import { createGithubExportActivities } from './export.js';
import {
  cachedResponse,
  copilotDayItem,
  eventItem,
  forkItem,
  markNotModified,
  reject,
  repoItem,
  storeResponse,
  upsertCopilotDays,
  upsertCourses,
  upsertEvents,
  upsertForks,
  validateItems,
} from './load.js';

export const PER_PAGE = 100;
/** GitHub serves at most 300 events per user. */
const MAX_EVENT_PAGES = 3;

export interface GithubTarget {
  client: GithubClient;
  org?: string;
  enterprise?: string;
  skillsOrg: string;
  sampleUsers?: string[];
}

/** A client for the endpoint the edge chose (github.com, GITHUB_API_URL or the sample server). */
export function githubTarget(
  ep: GithubEndpoint,
  config: Config,
  hits: ApiHitRecorder,
  logger: Logger,
  signal?: AbortSignal,
): GithubTarget {
  const common = {
    maxRetries: config.github.maxRetries,
    backoffScale: config.apiBackoffScale,
    onCall: hits.record,
    onNotice: (msg: string, fields: Record<string, unknown>) => logger.warn(fields, `github: ${msg}`),
    signal,
  };
  const client = new GithubClient({ ...common, baseUrl: ep.baseUrl, token: ep.token });
  return { client, org: ep.org, enterprise: ep.enterprise, skillsOrg: ep.skillsOrg, sampleUsers: ep.sampleUsers };
}

const status = (err: unknown) => (err as { status?: number }).status;

interface Progress {
  resource: string;
  run_key: string;
  state: 'running' | 'complete' | 'idle';
  mode: 'full' | 'window';
  window_start: Date | null;
  next_page: number;
  position: string | null;
}

async function progressOf(db: pg.Pool, jobName: string): Promise<Map<string, Progress>> {
  const { rows } = await db.query<Progress>(
    'SELECT resource, run_key, state, mode, window_start, next_page, position ' +
      'FROM api_extract_progress WHERE job_name = $1',
    [jobName],
  );
  return new Map(rows.map((r) => [r.resource, r]));
}

async function saveProgress(
  tx: pg.PoolClient,
  jobName: string,
  runKey: string,
  resource: string,
  p: {
    state: Progress['state'];
    mode: Progress['mode'];
    windowStart?: Date | null;
    nextPage: number;
    position?: string | null;
    rows?: number;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO api_extract_progress (job_name, resource, run_key, state, mode, window_start, run_started_at,
                                       next_page, position,
                                       pages_committed, rows_committed, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, 1, $9, now())
     ON CONFLICT (job_name, resource) DO UPDATE SET
       run_started_at = CASE WHEN api_extract_progress.run_key = EXCLUDED.run_key
         AND api_extract_progress.state <> 'idle'
                             THEN api_extract_progress.run_started_at ELSE now() END,
       pages_committed = CASE WHEN api_extract_progress.run_key = EXCLUDED.run_key
         AND api_extract_progress.state <> 'idle'
                              THEN api_extract_progress.pages_committed + 1 ELSE 1 END,
       rows_committed = CASE WHEN api_extract_progress.run_key = EXCLUDED.run_key
         AND api_extract_progress.state <> 'idle'
                             THEN api_extract_progress.rows_committed + EXCLUDED.rows_committed
                               ELSE EXCLUDED.rows_committed END,
       run_key = EXCLUDED.run_key, state = EXCLUDED.state, mode = EXCLUDED.mode, window_start = EXCLUDED.window_start,
       next_page = EXCLUDED.next_page, position = EXCLUDED.position, updated_at = now()`,
    [jobName, resource, runKey, p.state, p.mode, p.windowStart ?? null, p.nextPage, p.position ?? null, p.rows ?? 0],
  );
}

const idleAll = (jobName: string) => async (tx: pg.PoolClient) => {
  await tx.query(`UPDATE api_extract_progress SET state = 'idle', updated_at = now() WHERE job_name = $1`, [jobName]);
};

interface Tally {
  read: number;
  inserted: number;
  rejected: number;
}
const tally = (): Tally => ({ read: 0, inserted: 0, rejected: 0 });
const add = (t: Tally, r: { read: number; inserted?: number; rejected: number }) => {
  t.read += r.read;
  t.inserted += r.inserted ?? 0;
  t.rejected += r.rejected;
};

function counts(t: Tally, hits: ApiHitRecorder, extra: Record<string, string | number | boolean> = {}): JobCounts {
  const h = hits.total();
  return {
    processed: t.read,
    inserted: t.inserted,
    updated: t.read - t.inserted - t.rejected,
    rejected: t.rejected,
    detail: {
      ...extra,
      calls: h.calls,
      cacheHits: h.cacheHits,
      throttled: h.throttled,
      ...(h.rateLimitRemaining !== undefined && { rateLimitRemaining: h.rateLimitRemaining }),
    },
  };
}

export function createGithubActivities(deps: ActivityDeps) {
  return { ...createGithubSyncActivities(deps), ...createGithubExportActivities(deps) };
}

function createGithubSyncActivities({ warehouse, config, logger, sources }: ActivityDeps) {
  /** Runs a GitHub job: hit accounting, heartbeats during long waits, the paged ledger. */
  async function githubJob(
    input: NodeInput,
    what: string,
    work: (job: PagedJob, target: GithubTarget, hits: ApiHitRecorder) => Promise<JobCounts>,
  ): Promise<NodeResult> {
    const hits = new ApiHitRecorder('github');
    const hb = startHeartbeat({ what });
    try {
      const result = await runPagedLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force, hits },
        async (job) => {
          const target = githubTarget(await sources.github(), config, hits, logger, cancellationSignal());
          return work(job, target, hits);
        },
        { onSuccess: idleAll(input.nodeId) },
      );
      const h = hits.total();
      logger.info(
        {
          job: input.nodeId,
          calls: h.calls,
          cacheHits: h.cacheHits,
          throttled: h.throttled,
          rateLimitRemaining: h.rateLimitRemaining,
          rateLimit: h.rateLimitLimit,
        },
        `github ${what} synced`,
      );
      hb.report({ what, done: true });
      return result;
    } finally {
      hb.stop();
    }
  }

  return {
    /**
     * Copilot usage metrics → github.copilot_daily, copilot_languages, copilot_user_daily: the
     * reports API (organisation and users, 1-day for the target date and, for recent dates, the
     * 28-day latest), or the retired endpoint when GITHUB_COPILOT_API=legacy.
     */
    async syncGithubCopilotMetrics(input: NodeInput): Promise<NodeResult> {
      if (config.github.copilotApi === 'legacy') return legacyCopilotMetrics(input);
      return githubJob(input, 'copilot metrics', async (job, { client, org, enterprise }, hits) => {
        const scopes: CopilotScope[] = [
          ...(org ? [{ kind: 'org' as const, org }] : []),
          ...(enterprise ? [{ kind: 'enterprise' as const, enterprise }] : []),
        ];
        if (!scopes.length)
          throw new ConfigError('Copilot metrics need the organisation: set GITHUB_ORG (and/or GITHUB_ENTERPRISE)');
        const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
        const day = input.targetDate ?? yesterday;
        // The 28-day report is "latest": worth reading only while the target date is within it.
        const recent = Date.parse(day) >= Date.parse(yesterday) - 27 * 86_400_000;
        const reports: [CopilotReport, string | undefined][] = [
          ['organization-1-day', day],
          ['users-1-day', day],
          ...(recent
            ? ([
                ['organization-28-day', undefined],
                ['users-28-day', undefined],
              ] as [CopilotReport, undefined][])
            : []),
        ];
        const t = tally();
        const notReady: string[] = [];
        const days = new Set<string>();
        let userRows = 0;
        let linkRefreshes = 0;
        for (const scope of scopes)
          for (const [report, d] of reports) {
            reportPosition({ scope: scopeKey(scope), report });
            const r = await job.commit((tx) =>
              loadCopilotReport(tx, client, scope, report, {
                jobName: input.nodeId,
                targetDate: input.targetDate,
                day: d,
                signal: cancellationSignal(),
              }),
            );
            add(t, r);
            linkRefreshes += r.linkRefreshes;
            if (!r.available) notReady.push(`${scopeKey(scope)} ${report}`);
            if (report.startsWith('users')) userRows += r.loaded;
            else r.days.forEach((x) => days.add(x));
          }
        if (notReady.length)
          logger.warn({ job: input.nodeId, day, notReady }, 'Copilot reports not generated yet (GitHub answered 204)');
        return counts(t, hits, {
          api: 'reports',
          days: days.size,
          userRows,
          linkRefreshes,
          notReady: notReady.join(', '),
          targetDatePresent: days.has(day),
        });
      });
    },
    /** /users/{username}/events for every tracked learner → github.activity. One commit per user. */
    async syncGithubUserEvents(input: NodeInput): Promise<NodeResult> {
      return githubJob(input, 'user events', async (job, { client, sampleUsers }, hits) => {
        const runKey = input.targetDate ?? 'incremental';
        const extra = [...config.github.trackedUsers, ...(sampleUsers ?? [])];
        if (extra.length) {
          await warehouse.query(
            `INSERT INTO github.tracked_users (username, source) SELECT u, $2 FROM unnest($1::text[]) u
              ON CONFLICT (username) DO NOTHING`,
            [extra, sampleUsers ? 'sample' : 'GITHUB_TRACKED_USERS'],
          );
        }
        const { rows: users } = await warehouse.query<{ username: string }>(
          'SELECT username FROM github.tracked_users ORDER BY username COLLATE "C"',
        );
        const prev = (await progressOf(warehouse, input.nodeId)).get('events');
        // A retry of the same run skips the users it already committed.
        const after = prev && prev.run_key === runKey && prev.state === 'running' ? prev.position : null;
        const t = tally();
        let unchanged = 0;
        for (const [i, { username }] of users.entries()) {
          if (after !== null && username <= after) continue;
          reportPosition({ user: username, index: i, of: users.length });
          const key = `github:events:${username}`;
          const cached = await cachedResponse(warehouse, key);
          const route = '/users/{username}/events';
          let first;
          try {
            first = await client.get<unknown>(
              route,
              { username, per_page: PER_PAGE, page: 1 },
              cached ? { etag: cached.etag, lastModified: cached.last_modified } : {},
            );
          } catch (err) {
            if (status(err) !== 404) throw err;
            await job.commit(async (tx) => {
              await reject(tx, input.nodeId, input.targetDate, `GitHub user ${username} not found (404)`, { username });
              await saveProgress(tx, input.nodeId, runKey, 'events', {
                state: 'running',
                mode: 'window',
                nextPage: 1,
                position: username,
              });
            });
            t.rejected++;
            t.read++;
            continue;
          }
          if (first.status === 304) {
            unchanged++;
            await job.commit(async (tx) => {
              await markNotModified(tx, key);
              await saveProgress(tx, input.nodeId, runKey, 'events', {
                state: 'running',
                mode: 'window',
                nextPage: 1,
                position: username,
              });
            });
            continue;
          }
          // Newest first: read on only while every event is new to us (GitHub keeps 300 at most).
          const { rows: k } = await warehouse.query<{ max: string | null }>(
            'SELECT max(event_id)::text AS max FROM github.activity WHERE username = $1',
            [username],
          );
          const known = k[0]?.max ? BigInt(k[0].max) : null;
          const pages: unknown[] = [first.data];
          let last = first.data;
          let link = first.link;
          for (
            let page = 2;
            page <= MAX_EVENT_PAGES && Array.isArray(last) && last.length === PER_PAGE && nextLink(link);
            page++
          ) {
            const ids = (last as { id?: string }[]).map((e) => BigInt(e.id ?? '0'));
            if (known !== null && ids.some((id) => id <= known)) break;
            const more = await client.get<unknown>(route, { username, per_page: PER_PAGE, page });
            if (more.status !== 200) break;
            pages.push(more.data);
            last = more.data;
            link = more.link;
          }
          await job.commit(async (tx) => {
            let n = 0;
            for (const body of pages) {
              const v = await validateItems(tx, eventItem, body, {
                jobName: input.nodeId,
                targetDate: input.targetDate,
                what: `event of ${username}`,
              });
              const inserted = await upsertEvents(tx, username, v.good);
              add(t, { ...v, inserted });
              n += v.good.length;
            }
            await storeResponse(tx, key, { etag: first.etag, lastModified: first.lastModified });
            await saveProgress(tx, input.nodeId, runKey, 'events', {
              state: 'running',
              mode: 'window',
              nextPage: 1,
              position: username,
              rows: n,
            });
          });
        }
        return counts(t, hits, { users: users.length, unchanged });
      });
    },

    /** Repositories of the Skills organisation → github.skills_courses; their forks → github.skills_enrollments. */
    async syncGithubSkills(input: NodeInput): Promise<NodeResult> {
      return githubJob(input, 'skills', async (job, { client, skillsOrg }, hits) => {
        const runKey = input.targetDate ?? 'incremental';
        const t = tally();
        const courses = await syncCourses(job, client, skillsOrg, input, t);
        const progress = await progressOf(warehouse, input.nodeId);
        let newForks = 0;
        for (const course of courses) {
          const before = t.inserted;
          await syncForks(job, client, skillsOrg, course, progress.get(`forks:${course.name}`), input, runKey, t);
          newForks += t.inserted - before;
        }
        return counts(t, hits, { courses: courses.length, newEnrollments: newForks });
      });
    },
  };

  /** GITHUB_COPILOT_API=legacy: /orgs/{org}/copilot/metrics (GitHub Enterprise Server versions that still have it). */
  async function legacyCopilotMetrics(input: NodeInput): Promise<NodeResult> {
    return githubJob(input, 'copilot metrics', async (job, { client, org }, hits) => {
      if (!org) throw new ConfigError('Copilot metrics need the organisation: set GITHUB_ORG');
      const key = `github:copilot-metrics:${org}`;
      const cached = await cachedResponse(warehouse, key);
      const route = '/orgs/{org}/copilot/metrics';
      // A 403/404 is classified by the client (permission naming the scope / configuration naming GITHUB_ORG).
      const first = await client.get<unknown>(
        route,
        { org, per_page: PER_PAGE },
        cached?.body != null ? { etag: cached.etag, lastModified: cached.last_modified } : {},
      );
      let days: unknown[];
      const fresh = first.status === 200;
      if (first.status === 304) days = cached!.body as unknown[];
      else {
        days = Array.isArray(first.data) ? [...first.data] : [];
        // More than 100 days is unusual (the API keeps 100); follow the pages if there are.
        let next = nextLink(first.link);
        for (let page = 2; next && Array.isArray(first.data); page++) {
          const more = await client.get<unknown[]>(route, { org, per_page: PER_PAGE, page });
          if (more.status !== 200) break;
          days.push(...(Array.isArray(more.data) ? more.data : []));
          next = nextLink(more.link);
        }
      }
      const t = tally();
      let loaded = { days: 0, languages: 0 };
      await job.commit(async (tx) => {
        const body = first.status === 200 && !Array.isArray(first.data) ? first.data : days;
        const v = await validateItems(tx, copilotDayItem, body, {
          jobName: input.nodeId,
          targetDate: input.targetDate,
          what: 'copilot metrics day',
        });
        add(t, v);
        loaded = await upsertCopilotDays(tx, org, v.good);
        if (first.status === 200)
          await storeResponse(tx, key, { etag: first.etag, lastModified: first.lastModified, body: days });
        else await markNotModified(tx, key);
      });
      const hasTarget = input.targetDate ? days.some((d) => (d as { date?: string }).date === input.targetDate) : true;
      if (!hasTarget)
        logger.warn(
          { job: input.nodeId, targetDate: input.targetDate },
          'Copilot metrics do not include the target date yet',
        );
      return counts(t, hits, {
        notModified: !fresh,
        days: loaded.days,
        languageRows: loaded.languages,
        targetDatePresent: hasTarget,
      });
    });
  }

  async function syncCourses(
    job: PagedJob,
    client: GithubClient,
    org: string,
    input: NodeInput,
    t: Tally,
  ): Promise<{ id: number; name: string }[]> {
    const courses: { id: number; name: string }[] = [];
    for (let page = 1; ; page++) {
      const key = `github:repos:${org}:page:${page}`;
      const cached = await cachedResponse(warehouse, key);
      const res = await client.get<unknown>(
        '/orgs/{org}/repos',
        { org, per_page: PER_PAGE, page, type: 'public' },
        cached?.body != null ? { etag: cached.etag, lastModified: cached.last_modified } : {},
      );
      const body = res.status === 304 ? cached!.body : res.data;
      const full = await job.commit(async (tx) => {
        const v = await validateItems(tx, repoItem, body, {
          jobName: input.nodeId,
          targetDate: input.targetDate,
          what: `repository of ${org}`,
        });
        // Courses are the templates learners copy; forks and archived repos are not courses.
        const live = v.good.filter((r) => !r.fork && !r.archived && r.is_template !== false);
        const inserted = await upsertCourses(tx, live);
        add(t, { read: live.length + v.rejected, inserted, rejected: v.rejected });
        courses.push(...live.map((r) => ({ id: r.id, name: r.name })));
        if (res.status === 200) await storeResponse(tx, key, { etag: res.etag, lastModified: res.lastModified, body });
        else await markNotModified(tx, key);
        return Array.isArray(body) && body.length === PER_PAGE;
      });
      if (!full) return courses;
    }
  }

  /**
   * Forks newest first. A window run stops at the first fork older than the newest one it knew
   * when it started (kept in the progress row, so a resumed walk stops at the same place); a full
   * run (forced, or a course never read) walks every page. Page 1 is conditional; its ETag is stored
   * only when the walk completes, so a 304 never hides pages a crashed walk did not reach.
   */
  async function syncForks(
    job: PagedJob,
    client: GithubClient,
    org: string,
    course: { id: number; name: string },
    prev: Progress | undefined,
    input: NodeInput,
    runKey: string,
    t: Tally,
  ): Promise<void> {
    const resource = `forks:${course.name}`;
    const sameRun = prev?.run_key === runKey && prev.state !== 'idle';
    if (sameRun && prev.state === 'complete') return;
    const key = `github:forks:${org}/${course.name}`;
    const route = '/repos/{owner}/{repo}/forks';
    let mode: Progress['mode'];
    let watermark: Date | null;
    let page: number;
    let validators: { etag?: string; lastModified?: string };
    if (sameRun && prev.state === 'running') {
      ({ mode, window_start: watermark, next_page: page } = prev);
      validators = prev.position ? (JSON.parse(prev.position) as typeof validators) : {};
    } else {
      const { rows } = await warehouse.query<{ max: Date | null }>(
        'SELECT max(created_at) AS max FROM github.skills_enrollments WHERE course_repo_id = $1',
        [course.id],
      );
      watermark = input.force ? null : (rows[0]?.max ?? null);
      mode = watermark ? 'window' : 'full';
      page = 1;
      validators = {};
      const cached = mode === 'window' ? await cachedResponse(warehouse, key) : undefined;
      const res = await client.get<unknown>(
        route,
        { owner: org, repo: course.name, sort: 'newest', per_page: PER_PAGE, page: 1 },
        cached ? { etag: cached.etag, lastModified: cached.last_modified } : {},
      );
      if (res.status === 304) {
        await job.commit(async (tx) => {
          await markNotModified(tx, key);
          await saveProgress(tx, input.nodeId, runKey, resource, {
            state: 'complete',
            mode,
            windowStart: watermark,
            nextPage: 1,
          });
        });
        return;
      }
      validators = { etag: res.etag, lastModified: res.lastModified };
      if (await commitForkPage(res.data, 1)) return;
      page = 2;
    }
    for (; ; page++) {
      reportPosition({ course: course.name, page });
      const res = await client.get<unknown>(route, {
        owner: org,
        repo: course.name,
        sort: 'newest',
        per_page: PER_PAGE,
        page,
      });
      if (res.status !== 200 || (await commitForkPage(res.data, page))) return;
    }

    /** Commits one page with its progress; true when the walk is over (and then stores page 1's validators). */
    async function commitForkPage(body: unknown, n: number): Promise<boolean> {
      return job.commit(async (tx) => {
        const v = await validateItems(tx, forkItem, body, {
          jobName: input.nodeId,
          targetDate: input.targetDate,
          what: `fork of ${course.name}`,
        });
        const inserted = await upsertForks(tx, course, v.good);
        add(t, { ...v, inserted });
        const reachedKnown =
          watermark !== null &&
          v.good.some((f) => f.created_at != null && Date.parse(f.created_at) <= watermark!.getTime());
        const done = !Array.isArray(body) || body.length < PER_PAGE || reachedKnown;
        if (done) await storeResponse(tx, key, validators);
        await saveProgress(tx, input.nodeId, runKey, resource, {
          state: done ? 'complete' : 'running',
          mode,
          windowStart: watermark,
          nextPage: n + 1,
          position: JSON.stringify(validators),
          rows: v.good.length,
        });
        return done;
      });
    }
  }
}
