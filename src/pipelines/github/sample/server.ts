// A local stand-in for the parts of the GitHub REST API learnsync reads: the Copilot usage
// metrics reports of an organisation and an enterprise (signed download links to NDJSON files on
// a separate storage host; the retired /orgs/{org}/copilot/metrics only with legacyCopilotMetrics,
// as an old GitHub Enterprise Server would), users' public events, an organisation's repositories
// (the Skills courses) and
// their forks (the enrolments). It answers conditional requests (ETag / If-None-Match,
// Last-Modified / If-Modified-Since) with 304s that do not count against the rate limit, sends
// x-ratelimit-* headers, refuses with 403 when the budget is spent, and paginates with Link.
import { fnv1a, prng } from '../../../stack/sample-kit/random.js';
import {
  chaosFor,
  FailureInjector,
  json,
  listenRecording,
  pageOf,
  RequestStats,
  type ChaosOptions,
  type FailureRule,
  type SampleRequest,
  type SampleResponse,
} from '../../../stack/sample-kit/http-kit.js';
import {
  organizationDay,
  startReportStore,
  twoFiles,
  userDay,
  type ReportStore,
  type UserDay,
} from './copilot-reports.js';

/**
 * The API routes this server answers; test/pipelines/github/openapi-drift.test.ts checks each
 * against @octokit/openapi-types.
 */
export const SAMPLE_GITHUB_ROUTES = [
  '/orgs/{org}/copilot/metrics/reports/organization-1-day',
  '/orgs/{org}/copilot/metrics/reports/users-1-day',
  '/orgs/{org}/copilot/metrics/reports/organization-28-day/latest',
  '/orgs/{org}/copilot/metrics/reports/users-28-day/latest',
  '/enterprises/{enterprise}/copilot/metrics/reports/enterprise-1-day',
  '/enterprises/{enterprise}/copilot/metrics/reports/users-1-day',
  '/enterprises/{enterprise}/copilot/metrics/reports/enterprise-28-day/latest',
  '/enterprises/{enterprise}/copilot/metrics/reports/users-28-day/latest',
  '/users/{username}/events',
  '/users/{username}/events/public',
  '/orgs/{org}/repos',
  '/repos/{owner}/{repo}/forks',
] as const;
/** Served only with legacyCopilotMetrics (old GitHub Enterprise Server); gone from GitHub's REST description. */
export const SAMPLE_GITHUB_LEGACY_ROUTES = ['/orgs/{org}/copilot/metrics'] as const;

export interface GithubServerOptions {
  /** Loopback port to listen on (SAMPLE_*_PORT); a free one when unset. */
  port?: number;
  seed?: number;
  org?: string;
  enterprise?: string;
  skillsOrg?: string;
  /** Serve the retired /orgs/{org}/copilot/metrics (old GHES); off by default, as on github.com. */
  legacyCopilotMetrics?: boolean;
  /** Lifetime of the signed report links (default 5 minutes). */
  reportLinkTtlMs?: number;
  /** Copilot users of the organisation besides the learners (default 8). */
  extraCopilotUsers?: number;
  /** The token the server accepts; requests without one are served as anonymous (limit 60). */
  token?: string;
  users?: number;
  courses?: number;
  forksPerCourse?: number;
  maxEventsPerUser?: number;
  copilotDays?: number;
  rateLimit?: number;
  rateLimitWindowMs?: number;
  chaos?: ChaosOptions;
  /** New events (and now and then a fork) at each minute boundary. */
  changesPerMinute?: number;
  now?: () => number;
}

export interface GithubServer {
  url: string;
  token: string;
  org: string;
  enterprise: string;
  skillsOrg: string;
  usernames: string[];
  /** The host serving the report files behind signed links (its own request log). */
  reports: ReportStore;
  /** The user-level records of the organisation for one day (what users-1-day serves). */
  copilotUsersOn(day: string): UserDay[];
  /** Lines appended to the next users report served (bad records for reject tests). */
  addReportNoise(lines: string[]): void;
  courseNames: string[];
  stats: RequestStats;
  inject(rule: FailureRule): void;
  clearFailures(): void;
  addEvents(username: string, count: number, at?: Date): void;
  addForks(course: string, count: number, at?: Date): void;
  /** Spends the whole primary budget; it comes back after resetInMs. */
  exhaustRateLimit(resetInMs: number): void;
  eventCount(username: string): number;
  forkCount(course: string): number;
  close(): Promise<void>;
}

interface Event {
  id: number;
  username: string;
  type: string;
  repo: string;
  action?: string;
  at: number;
}

interface Fork {
  id: number;
  owner: string;
  ownerId: number;
  at: number;
}

const COURSE_NAMES = [
  'introduction-to-github',
  'communicate-using-markdown',
  'github-pages',
  'review-pull-requests',
  'resolve-merge-conflicts',
  'hello-github-actions',
  'getting-started-with-github-copilot',
  'code-with-codespaces',
  'secure-repository-supply-chain',
  'test-with-actions',
  'publish-packages',
  'release-based-workflow',
];
const EVENT_TYPES = [
  'PushEvent',
  'PullRequestEvent',
  'IssuesEvent',
  'CreateEvent',
  'WatchEvent',
  'ForkEvent',
  'IssueCommentEvent',
];
const LANGUAGES = ['python', 'typescript', 'javascript', 'go', 'java', 'csharp', 'ruby', 'markdown'];
const EDITORS = ['vscode', 'jetbrains', 'neovim'];
const ANCHOR = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function startGithubServer(opts: GithubServerOptions = {}): Promise<GithubServer> {
  const seed = opts.seed ?? 7;
  const org = opts.org ?? 'sample-org';
  const enterprise = opts.enterprise ?? 'sample-enterprise';
  const skillsOrg = opts.skillsOrg ?? 'skills';
  const token = opts.token ?? 'sample-github-token';
  const now = opts.now ?? Date.now;
  const limit = opts.rateLimit ?? 5000;
  const windowMs = opts.rateLimitWindowMs ?? 3_600_000;
  const rnd = prng(seed);
  const usernames = Array.from({ length: opts.users ?? 12 }, (_, i) => `learner-${i + 1}`);
  const courseNames = COURSE_NAMES.slice(0, Math.min(COURSE_NAMES.length, opts.courses ?? 6));
  const stats = new RequestStats();
  const failures = new FailureInjector();
  const budget = { windowStart: now(), used: 0, anonUsed: 0 };
  let counter = 0;

  // Events: generated per user, then numbered in time order across users, as GitHub's ids are.
  let nextEventId = 1_000_000;
  const events = new Map<string, Event[]>(usernames.map((u) => [u, []]));
  const pending: Event[] = [];
  for (const u of usernames) {
    const n = Math.floor(rnd() * (opts.maxEventsPerUser ?? 120));
    for (let i = 0; i < n; i++) pending.push(makeEvent(u, ANCHOR - Math.floor((rnd() * 90 * DAY) / 1000) * 1000));
  }
  pending.sort((a, b) => a.at - b.at);
  for (const e of pending) events.get(e.username)!.push({ ...e, id: nextEventId++ });

  function makeEvent(username: string, at: number): Event {
    const type = EVENT_TYPES[Math.floor(rnd() * EVENT_TYPES.length)]!;
    return {
      id: 0,
      username,
      type,
      repo: `${username}/${COURSE_NAMES[Math.floor(rnd() * COURSE_NAMES.length)]}`,
      action: type === 'PullRequestEvent' || type === 'IssuesEvent' ? 'opened' : undefined,
      at,
    };
  }

  let nextForkId = 5_000_000;
  const forks = new Map<string, Fork[]>(
    courseNames.map((c) => {
      const n = Math.floor(rnd() * 2 * (opts.forksPerCourse ?? 60));
      const list = Array.from({ length: n }, () => ANCHOR - Math.floor((rnd() * 400 * DAY) / 1000) * 1000)
        .sort((a, b) => a - b)
        .map((at) => forkAt(at));
      return [c, list];
    }),
  );
  function forkAt(at: number): Fork {
    const learner =
      rnd() < 0.3 && usernames.length
        ? usernames[Math.floor(rnd() * usernames.length)]!
        : `someone-${Math.floor(rnd() * 1e6)}`;
    return { id: nextForkId++, owner: learner, ownerId: fnv1a(learner) % 10_000_000, at };
  }
  const copilotLogins = [
    ...usernames,
    ...Array.from({ length: opts.extraCopilotUsers ?? 8 }, (_, i) => `copilot-user-${i + 1}`),
  ];
  const reports = await startReportStore({
    linkTtlMs: opts.reportLinkTtlMs ?? 300_000,
    now,
    secret: `${seed}:${token}`,
  });
  let reportNoise: string[] = [];
  const usersOn = (scopeId: string, day: number): UserDay[] =>
    copilotLogins.flatMap((login) => userDay(scopeId, login, fnv1a(login) % 10_000_000, day) ?? []);
  const courseIds = new Map(courseNames.map((c, i) => [c, 100_000 + i]));
  const courseCreated = new Map(courseNames.map((c) => [c, ANCHOR - Math.floor(rnd() * 1500) * DAY]));

  let lastTick = Math.floor(now() / 60_000);
  const advance = () => {
    const perMinute = opts.changesPerMinute ?? 0;
    const tick = Math.floor(now() / 60_000);
    for (let t = lastTick + 1; perMinute && t <= tick; t++) {
      const r = prng(seed ^ t);
      for (let i = 0; i < perMinute; i++) {
        const u = usernames[Math.floor(r() * usernames.length)];
        if (u) events.get(u)!.push({ ...makeEvent(u, t * 60_000), id: nextEventId++ });
      }
      const c = courseNames[Math.floor(r() * courseNames.length)];
      if (c && r() < 0.3) forks.get(c)!.push(forkAt(t * 60_000));
    }
    lastTick = Math.max(lastTick, tick);
  };

  function rateHeaders(anonymous: boolean): Record<string, string> {
    const t = now();
    if (t - budget.windowStart >= windowMs) Object.assign(budget, { windowStart: t, used: 0, anonUsed: 0 });
    const lim = anonymous ? 60 : limit;
    const used = anonymous ? budget.anonUsed : budget.used;
    return {
      'x-ratelimit-limit': String(lim),
      'x-ratelimit-remaining': String(Math.max(0, lim - used)),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': String(Math.ceil((budget.windowStart + windowMs) / 1000)),
      'x-ratelimit-resource': 'core',
    };
  }

  function handle(req: SampleRequest): SampleResponse | 'malformed' {
    const n = ++counter;
    const auth = /^(?:token|Bearer) (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    if (req.headers.authorization && auth !== token)
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const anonymous = !auth;
    let headers = rateHeaders(anonymous);
    const injected = failures.take(req);
    if (injected && 'malformed' in injected) return 'malformed';
    if (injected && 'status' in injected)
      return {
        status: injected.status,
        headers: { ...headers, ...injected.headers },
        body: injected.body ?? { message: `injected ${injected.status}` },
      };
    if (headers['x-ratelimit-remaining'] === '0') {
      return json(
        403,
        {
          message: `API rate limit exceeded for ${anonymous ? '127.0.0.1' : 'user ID 1'}.`,
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
        headers,
      );
    }
    const chaos = chaosFor(n, opts.chaos);
    if (chaos) return { ...chaos, headers: { ...chaos.headers, ...headers } };
    if (req.method !== 'GET') return json(404, { message: 'Not Found' }, headers);
    advance();
    const answer = route(req);
    if (answer.status === 200) {
      const body = JSON.stringify(answer.body);
      const etag = `W/"${fnv1a(body).toString(16)}"`;
      const lastModified = answer.lastModified ? new Date(answer.lastModified).toUTCString() : undefined;
      const notModified =
        req.headers['if-none-match'] === etag ||
        (!req.headers['if-none-match'] &&
          lastModified &&
          req.headers['if-modified-since'] &&
          Date.parse(String(req.headers['if-modified-since'])) >= Date.parse(lastModified));
      // Conditional requests answered 304 are free, as on github.com.
      if (notModified)
        return { status: 304, headers: { ...headers, etag, ...(lastModified && { 'last-modified': lastModified }) } };
      if (anonymous) budget.anonUsed++;
      else budget.used++;
      headers = rateHeaders(anonymous);
      return {
        status: 200,
        body,
        headers: {
          ...headers,
          'content-type': 'application/json; charset=utf-8',
          etag,
          ...(lastModified && { 'last-modified': lastModified }),
          ...(answer.link && { link: answer.link }),
        },
      };
    }
    if (anonymous) budget.anonUsed++;
    else budget.used++;
    return { status: answer.status, body: answer.body, headers: rateHeaders(anonymous) };
  }

  function paginate<T>(req: SampleRequest, items: T[], defaultPer = 30, cap = Infinity): { items: T[]; link?: string } {
    const per = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? defaultPer)));
    const page = Math.max(1, pageOf(req.query) ?? 1);
    const all = items.slice(0, cap);
    const last = Math.max(1, Math.ceil(all.length / per));
    const url = (p: number) => {
      const q = new URLSearchParams(req.query);
      q.set('page', String(p));
      q.set('per_page', String(per));
      return `<${server.url}${req.path}?${q.toString()}>`;
    };
    const links: string[] = [];
    if (page < last) links.push(`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`);
    if (page > 1) links.push(`${url(1)}; rel="first"`, `${url(page - 1)}; rel="prev"`);
    return { items: all.slice((page - 1) * per, page * per), link: links.length ? links.join(', ') : undefined };
  }

  /** The Copilot usage metrics reports: links to report files, 204 for a day not yet generated. */
  function copilotReport(req: SampleRequest): { status: number; body: unknown } | undefined {
    const m =
      /^\/(orgs|enterprises)\/([^/]+)\/copilot\/metrics\/reports\/(organization|enterprise|users)-(1-day|28-day\/latest)$/.exec(
        req.path,
      );
    if (!m) return undefined;
    const [, kind, name, level, span] = m;
    const scopeOk =
      kind === 'orgs' ? name === org && level !== 'enterprise' : name === enterprise && level !== 'organization';
    if (!scopeOk)
      return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
    const scopeId = String(fnv1a(`${kind}:${name}`) % 1_000_000);
    const yesterday = Math.floor(now() / DAY) * DAY - DAY;
    const userLines = (days: number[]) => {
      const lines = days.flatMap((d) => usersOn(scopeId, d).map((u) => JSON.stringify(u)));
      const noise = reportNoise;
      reportNoise = [];
      return [...lines, ...noise];
    };
    if (span === '1-day') {
      const dayParam = req.query.get('day') ?? '';
      const day = /^\d{4}-\d{2}-\d{2}$/.test(dayParam) ? Date.parse(`${dayParam}T00:00:00Z`) : NaN;
      if (Number.isNaN(day))
        return { status: 422, body: { message: 'Invalid request: "day" must be a date in YYYY-MM-DD format.' } };
      if (day > yesterday || day < yesterday - 365 * DAY) return { status: 204, body: undefined };
      const lines =
        level === 'users' ? userLines([day]) : [JSON.stringify(organizationDay(scopeId, usersOn(scopeId, day), day))];
      return { status: 200, body: { download_links: reports.issue(twoFiles(lines)), report_day: dayParam } };
    }
    const days = Array.from({ length: 28 }, (_, i) => yesterday - (27 - i) * DAY);
    const range = { report_start_day: isoDay(days[0]!), report_end_day: isoDay(yesterday) };
    let lines: string[];
    if (level === 'users') lines = userLines(days);
    else {
      // The documented 28-day shape: containers of day_totals; two of them, one per file.
      const totals = days.map((d) => organizationDay(scopeId, usersOn(scopeId, d), d));
      lines = [totals.slice(0, 14), totals.slice(14)].map((dayTotals) =>
        JSON.stringify({ ...range, organization_id: scopeId, day_totals: dayTotals }),
      );
    }
    return { status: 200, body: { download_links: reports.issue(twoFiles(lines)), ...range } };
  }

  function route(req: SampleRequest): { status: number; body: unknown; link?: string; lastModified?: number } {
    const report = copilotReport(req);
    if (report) return report;
    let m = opts.legacyCopilotMetrics ? /^\/orgs\/([^/]+)\/copilot\/metrics$/.exec(req.path) : null;
    if (m) {
      if (m[1] !== org) return { status: 404, body: { message: 'Not Found' } };
      const today = Math.floor(now() / DAY) * DAY;
      const days = opts.copilotDays ?? 28;
      const since = req.query.get('since') ? Date.parse(req.query.get('since')!) : today - days * DAY;
      const until = req.query.get('until') ? Date.parse(req.query.get('until')!) : today;
      const all: unknown[] = [];
      for (let d = Math.max(today - 100 * DAY, Math.floor(since / DAY) * DAY); d < Math.min(today, until + 1); d += DAY)
        all.push(copilotDay(d));
      const page = paginate(req, all, 28);
      return { status: 200, body: page.items, link: page.link, lastModified: today };
    }
    m = /^\/users\/([^/]+)\/events(?:\/public)?$/.exec(req.path);
    if (m) {
      const list = events.get(m[1]!);
      if (!list) return { status: 404, body: { message: 'Not Found' } };
      const newestFirst = [...list].reverse();
      // GitHub serves at most 300 events of a user, 30 per page by default.
      const page = paginate(req, newestFirst, 30, 300);
      return {
        status: 200,
        body: page.items.map((e) => ({
          id: String(e.id),
          type: e.type,
          actor: { id: fnv1a(e.username) % 10_000_000, login: e.username },
          repo: { id: fnv1a(e.repo) % 10_000_000, name: e.repo },
          payload: e.action ? { action: e.action } : {},
          public: true,
          created_at: iso(e.at),
        })),
        link: page.link,
      };
    }
    m = /^\/orgs\/([^/]+)\/repos$/.exec(req.path);
    if (m) {
      if (m[1] !== skillsOrg) return { status: 404, body: { message: 'Not Found' } };
      const repos = courseNames.map((c) => {
        const list = forks.get(c)!;
        const updated = Math.max(courseCreated.get(c)!, ...list.map((f) => f.at));
        return {
          id: courseIds.get(c),
          name: c,
          full_name: `${skillsOrg}/${c}`,
          description: `GitHub Skills: ${c.replace(/-/g, ' ')}`,
          html_url: `https://github.com/${skillsOrg}/${c}`,
          fork: false,
          is_template: true,
          forks_count: list.length,
          created_at: iso(courseCreated.get(c)!),
          updated_at: iso(updated),
        };
      });
      const page = paginate(req, repos, 30);
      return { status: 200, body: page.items, link: page.link };
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/forks$/.exec(req.path);
    if (m) {
      const list = m[1] === skillsOrg ? forks.get(m[2]!) : undefined;
      if (!list) return { status: 404, body: { message: 'Not Found' } };
      const sorted = req.query.get('sort') === 'oldest' ? [...list] : [...list].reverse();
      const page = paginate(req, sorted, 30);
      return {
        status: 200,
        body: page.items.map((f) => ({
          id: f.id,
          name: m![2],
          full_name: `${f.owner}/${m![2]}`,
          fork: true,
          owner: { login: f.owner, id: f.ownerId, type: 'User' },
          created_at: iso(f.at),
          updated_at: iso(f.at),
        })),
        link: page.link,
      };
    }
    return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
  }

  function copilotDay(day: number) {
    const r = prng(fnv1a(`${org}:${day}`));
    const editors = EDITORS.map((name) => ({
      name,
      total_engaged_users: 0,
      models: [
        {
          name: 'default',
          is_custom_model: false,
          total_engaged_users: 0,
          languages: LANGUAGES.filter(() => r() < 0.7).map((language) => {
            const suggestions = Math.floor(r() * 400);
            const accepted = Math.floor(suggestions * (0.2 + r() * 0.3));
            return {
              name: language,
              total_engaged_users: 1 + Math.floor(r() * 15),
              total_code_suggestions: suggestions,
              total_code_acceptances: accepted,
              total_code_lines_suggested: suggestions * 2,
              total_code_lines_accepted: accepted * 2,
            };
          }),
        },
      ],
    }));
    for (const e of editors) {
      const users = e.models[0]!.languages.reduce((s, l) => s + l.total_engaged_users, 0);
      e.total_engaged_users = users;
      e.models[0]!.total_engaged_users = users;
    }
    const completionUsers = editors.reduce((s, e) => s + e.total_engaged_users, 0);
    const chatUsers = Math.floor(r() * 30);
    return {
      date: new Date(day).toISOString().slice(0, 10),
      total_active_users: completionUsers + chatUsers + Math.floor(r() * 10),
      total_engaged_users: completionUsers + chatUsers,
      copilot_ide_code_completions: { total_engaged_users: completionUsers, editors },
      copilot_ide_chat: {
        total_engaged_users: chatUsers,
        editors: [
          {
            name: 'vscode',
            total_engaged_users: chatUsers,
            models: [
              {
                name: 'default',
                is_custom_model: false,
                total_engaged_users: chatUsers,
                total_chats: chatUsers * 4,
                total_chat_insertion_events: chatUsers,
                total_chat_copy_events: chatUsers * 2,
              },
            ],
          },
        ],
      },
      copilot_dotcom_chat: { total_engaged_users: Math.floor(r() * 10), models: [] },
      copilot_dotcom_pull_requests: { total_engaged_users: Math.floor(r() * 5), repositories: [] },
    };
  }

  const server = await listenRecording(handle, stats, opts.port);

  return {
    url: server.url,
    token,
    org,
    enterprise,
    skillsOrg,
    reports,
    copilotUsersOn: (day) => usersOn(String(fnv1a(`orgs:${org}`) % 1_000_000), Date.parse(`${day}T00:00:00Z`)),
    addReportNoise: (lines) => {
      reportNoise.push(...lines);
    },
    usernames,
    courseNames,
    stats,
    inject: (rule) => failures.add(rule),
    clearFailures: () => failures.clear(),
    addEvents(username, count, at) {
      const list = events.get(username);
      if (!list) throw new Error(`no sample user ${username}`);
      const t = at?.getTime() ?? now();
      for (let i = 0; i < count; i++) list.push({ ...makeEvent(username, t), id: nextEventId++ });
    },
    addForks(course, count, at) {
      const list = forks.get(course);
      if (!list) throw new Error(`no sample course ${course}`);
      const t = at?.getTime() ?? now();
      for (let i = 0; i < count; i++) list.push(forkAt(t));
    },
    exhaustRateLimit(resetInMs) {
      budget.windowStart = now() + resetInMs - windowMs;
      budget.used = limit;
    },
    eventCount: (u) => Math.min(300, events.get(u)?.length ?? 0),
    forkCount: (c) => forks.get(c)?.length ?? 0,
    close: async () => {
      await Promise.all([server.close(), reports.close()]);
    },
  };
}
