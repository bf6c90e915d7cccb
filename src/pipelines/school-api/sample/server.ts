// A local stand-in for the 42-style school REST API: OAuth2 client credentials with expiring
// tokens, page[number]/page[size] pagination with X-Total and Link headers, range[updated_at]
// and filter[...] parameters, hourly and per-second rate limits with their headers, and
// deterministic data that can change over time (changesPerMinute) or on demand (touch).
import { randomBytes } from 'node:crypto';
import { prng } from '../../../stack/sample-kit/random.js';
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

export const SCHOOL_RESOURCES = [
  'cursus',
  'campuses',
  'projects',
  'achievements',
  'coalitions',
  'users',
  'projects_users',
  'achievements_users',
  'coalitions_users',
] as const;
export type SchoolResource = (typeof SCHOOL_RESOURCES)[number];
const ACTIVE: SchoolResource[] = ['users', 'projects_users', 'achievements_users', 'coalitions_users'];

export interface SchoolSizes {
  cursus: number;
  campuses: number;
  projects: number;
  achievements: number;
  coalitions: number;
  users: number;
  projectsUsers: number;
  achievementsUsers: number;
  coalitionsUsers: number;
}

export const DEMO_SCHOOL_SIZES: SchoolSizes = {
  cursus: 6,
  campuses: 12,
  projects: 120,
  achievements: 240,
  coalitions: 24,
  users: 400,
  projectsUsers: 1500,
  achievementsUsers: 1000,
  coalitionsUsers: 400,
};

export interface SchoolApiServerOptions {
  /** Loopback port to listen on (SAMPLE_*_PORT); a free one when unset. */
  port?: number;
  seed?: number;
  sizes?: Partial<SchoolSizes>;
  /** The cursus most records belong to (42's main curriculum is 21). */
  mainCursusId?: number;
  /** Share of users and enrolments in the main cursus (the rest in others); default 0.85. */
  mainCursusShare?: number;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  hourlyLimit?: number;
  /** 0 → no per-second limit. */
  perSecondLimit?: number;
  chaos?: ChaosOptions;
  /** Records of the active tables updated at each minute boundary (0 → data changes only via touch). */
  changesPerMinute?: number;
  now?: () => number;
}

interface Rec {
  id: number;
  /** updated_at in ms */
  u: number;
  cursusIds: number[];
  data: Record<string, unknown>;
}

export interface SchoolApiServer {
  url: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  stats: RequestStats;
  /** Tokens handed out so far. */
  tokensIssued(): number;
  inject(rule: FailureRule): void;
  clearFailures(): void;
  revokeTokens(): void;
  /** Marks records as updated at `at` (default now); returns their ids. */
  touch(resource: SchoolResource, ids: number[], at?: Date | string): number[];
  /**
   * Touches `count` deterministic pseudo-random records; with spreadMs their times spread evenly over (at - spreadMs,
   * at].
   */
  touchRandom(resource: SchoolResource, count: number, at?: Date | string, spreadMs?: number): number[];
  /** Changes fields of one record and marks it updated. */
  update(resource: SchoolResource, id: number, patch: Record<string, unknown>, at?: Date | string): void;
  /** Records a full read of the resource would return with the given filters (as the API would count them). */
  count(resource: SchoolResource, filters?: { cursusId?: number; kind?: string; alumni?: boolean }): number;
  ids(resource: SchoolResource): number[];
  close(): Promise<void>;
}

const ANCHOR = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

export async function startSchoolApiServer(opts: SchoolApiServerOptions = {}): Promise<SchoolApiServer> {
  const seed = opts.seed ?? 42;
  const sizes = { ...DEMO_SCHOOL_SIZES, ...opts.sizes };
  const main = opts.mainCursusId ?? 21;
  const now = opts.now ?? Date.now;
  const clientId = opts.clientId ?? 'sample-client';
  const clientSecret = opts.clientSecret ?? 'sample-secret';
  const ttl = opts.tokenTtlSeconds ?? 7200;
  const hourlyLimit = opts.hourlyLimit ?? 100_000;
  const store = generate(seed, sizes, main, opts.mainCursusShare ?? 0.85);
  const byId = new Map(SCHOOL_RESOURCES.map((r) => [r, new Map(store[r].map((rec) => [rec.id, rec]))]));
  const tokens = new Map<string, number>();
  let issued = 0;
  let version = 0;
  const stats = new RequestStats();
  const failures = new FailureInjector();
  let counter = 0;
  const hourWindow = { start: 0, used: 0 };
  const secondWindow = { start: 0, used: 0 };
  const cache = new Map<string, { version: number; rows: Rec[] }>();

  // Data that changes with the clock: at every minute boundary a few records are updated. Ticks
  // of the last hour are replayed at start so that processes started minutes apart agree.
  let lastTick = Math.floor(now() / 60_000) - 60;
  const advance = () => {
    const perMinute = opts.changesPerMinute ?? 0;
    if (!perMinute) return;
    const tick = Math.floor(now() / 60_000);
    for (let t = lastTick + 1; t <= tick; t++) {
      const rnd = prng(seed ^ t);
      for (let i = 0; i < perMinute; i++) {
        const resource = ACTIVE[Math.floor(rnd() * ACTIVE.length)]!;
        const rows = store[resource];
        const rec = rows[Math.floor(rnd() * rows.length)];
        if (rec) mutate(resource, rec, t * 60_000, rnd);
      }
    }
    if (tick > lastTick) version++;
    lastTick = Math.max(lastTick, tick);
  };
  advance();

  function mutate(resource: SchoolResource, rec: Rec, at: number, rnd: () => number) {
    rec.u = at;
    if (resource === 'projects_users') {
      rec.data.final_mark = Math.floor(rnd() * 126);
      rec.data.status = 'finished';
      rec.data['validated?'] = (rec.data.final_mark as number) >= 50;
      rec.data.marked_at = iso(at);
    } else if (resource === 'users') rec.data.level = Math.round(((rec.data.level as number) + rnd()) * 100) / 100;
    else if (resource === 'coalitions_users') rec.data.score = (rec.data.score as number) + Math.floor(rnd() * 50);
    else if (resource === 'achievements_users')
      rec.data.nbr_of_success = ((rec.data.nbr_of_success as number | null) ?? 0) + 1;
  }

  const at = (when?: Date | string) =>
    when === undefined ? now() : typeof when === 'string' ? Date.parse(when) : when.getTime();

  function rateHeaders(): Record<string, string> {
    return {
      'x-hourly-ratelimit-limit': String(hourlyLimit),
      'x-hourly-ratelimit-remaining': String(Math.max(0, hourlyLimit - hourWindow.used)),
      'x-secondly-ratelimit-limit': String(opts.perSecondLimit ?? 0),
      'x-secondly-ratelimit-remaining': String(Math.max(0, (opts.perSecondLimit ?? 0) - secondWindow.used)),
    };
  }

  function handle(req: SampleRequest): SampleResponse | 'malformed' {
    const n = ++counter;
    const injected = failures.take(req);
    if (injected && 'revokeTokens' in injected) tokens.clear();
    else if (injected && 'malformed' in injected) return 'malformed';
    else if (injected)
      return {
        status: injected.status,
        headers: injected.headers,
        body: injected.body ?? { error: `injected ${injected.status}` },
      };

    if (req.method === 'POST' && req.path === '/oauth/token') return issueToken(req);
    const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const expires = auth ? tokens.get(auth) : undefined;
    if (!auth || expires === undefined || expires <= now()) {
      return json(401, {
        error: 'Not authorized',
        message: expires !== undefined ? 'The access token expired' : 'The access token is invalid',
      });
    }
    const t = now();
    if (t - hourWindow.start >= 3_600_000) Object.assign(hourWindow, { start: t - (t % 3_600_000), used: 0 });
    if (t - secondWindow.start >= 1000) Object.assign(secondWindow, { start: t, used: 0 });
    if (hourWindow.used >= hourlyLimit) {
      return json(
        429,
        { error: 'hourly rate limit exceeded' },
        { ...rateHeaders(), 'retry-after': String(Math.ceil((hourWindow.start + 3_600_000 - t) / 1000)) },
      );
    }
    if (opts.perSecondLimit && secondWindow.used >= opts.perSecondLimit) {
      return json(429, { error: 'secondly rate limit exceeded' }, { ...rateHeaders(), 'retry-after': '1' });
    }
    hourWindow.used++;
    secondWindow.used++;
    const chaos = chaosFor(n, opts.chaos);
    if (chaos) return { ...chaos, headers: { ...chaos.headers, ...rateHeaders() } };
    if (req.method !== 'GET') return json(405, { error: 'method not allowed' });
    advance();
    return list(req);
  }

  function issueToken(req: SampleRequest): SampleResponse {
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return json(401, { error: 'invalid_client' });
    const value = randomBytes(16).toString('hex');
    tokens.set(value, now() + ttl * 1000);
    issued++;
    return json(200, {
      access_token: value,
      token_type: 'bearer',
      expires_in: ttl,
      scope: 'public',
      created_at: Math.floor(now() / 1000),
    });
  }

  function route(path: string): { resource: SchoolResource; cursusId?: number } | undefined {
    const simple: Record<string, SchoolResource> = {
      '/v2/cursus': 'cursus',
      '/v2/campus': 'campuses',
      '/v2/achievements': 'achievements',
      '/v2/coalitions': 'coalitions',
      '/v2/projects_users': 'projects_users',
      '/v2/achievements_users': 'achievements_users',
      '/v2/coalitions_users': 'coalitions_users',
    };
    if (simple[path]) return { resource: simple[path]! };
    const m = /^\/v2\/cursus\/(\d+)\/(users|projects)$/.exec(path);
    if (m) return { resource: m[2] as SchoolResource, cursusId: Number(m[1]) };
    return undefined;
  }

  function list(req: SampleRequest): SampleResponse {
    const r = route(req.path);
    if (!r) return json(404, { error: 'Not Found' });
    const q = req.query;
    const size = Math.min(100, Math.max(1, Number(q.get('page[size]') ?? q.get('per_page') ?? 30)));
    const page = Math.max(1, pageOf(q) ?? 1);
    const filterKey = [...q.entries()]
      .filter(([k]) => !k.startsWith('page') && k !== 'per_page')
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const key = `${req.path}?${filterKey}`;
    let hit = cache.get(key);
    if (!hit || hit.version !== version) {
      const range = q.get('range[updated_at]')?.split(',');
      const lo = range?.[0] ? Date.parse(range[0]) : -Infinity;
      const hi = range?.[1] ? Date.parse(range[1]) : Infinity;
      if (Number.isNaN(lo) || Number.isNaN(hi))
        return json(400, { error: 'range[updated_at] must be two ISO dates separated by a comma' });
      const kind = q.get('filter[kind]');
      const alumni = q.get('filter[alumni?]');
      const cursus = q.get('filter[cursus]') ?? q.get('filter[cursus_id]');
      const scopeCursus = r.cursusId ?? (cursus !== null ? Number(cursus) : undefined);
      const rows = store[r.resource].filter(
        (rec) =>
          rec.u >= lo &&
          rec.u <= hi &&
          (scopeCursus === undefined || rec.cursusIds.includes(scopeCursus)) &&
          (kind === null || rec.data.kind === kind) &&
          (alumni === null || String(rec.data['alumni?']) === alumni),
      );
      hit = { version, rows };
      cache.set(key, hit);
    }
    const slice = hit.rows.slice((page - 1) * size, page * size);
    const last = Math.max(1, Math.ceil(hit.rows.length / size));
    const link = (p: number) => {
      const u = new URLSearchParams(q);
      u.set('page[number]', String(p));
      u.set('page[size]', String(size));
      return `<${req.path}?${u.toString()}>`;
    };
    const links = [`${link(last)}; rel="last"`, ...(page < last ? [`${link(page + 1)}; rel="next"`] : [])];
    return json(
      200,
      slice.map((rec) => ({ ...rec.data, id: rec.id, updated_at: iso(rec.u) })),
      {
        ...rateHeaders(),
        'x-page': String(page),
        'x-per-page': String(size),
        'x-total': String(hit.rows.length),
        link: links.join(', '),
      },
    );
  }

  function touch(resource: SchoolResource, ids: number[], when?: Date | string): number[] {
    const t = at(when);
    const rnd = prng(seed ^ t);
    for (const id of ids) {
      const rec = byId.get(resource)!.get(id);
      if (!rec) throw new Error(`no ${resource} record ${id}`);
      mutate(resource, rec, t, rnd);
    }
    version++;
    return ids;
  }

  const server = await listenRecording(handle, stats, opts.port);

  return {
    url: server.url,
    tokenUrl: `${server.url}/oauth/token`,
    clientId,
    clientSecret,
    stats,
    tokensIssued: () => issued,
    inject: (rule) => failures.add(rule),
    clearFailures: () => failures.clear(),
    revokeTokens: () => tokens.clear(),
    touch,
    touchRandom(resource, count, when, spreadMs = 0) {
      const rows = store[resource];
      if (count > rows.length) throw new Error(`${resource} has only ${rows.length} records`);
      const rnd = prng(seed ^ (version * 7919 + count));
      const picked = new Set<number>();
      while (picked.size < count) picked.add(rows[Math.floor(rnd() * rows.length)]!.id);
      if (!spreadMs) return touch(resource, [...picked], when);
      const end = at(when);
      [...picked].forEach((id, i) =>
        touch(resource, [id], new Date(end - spreadMs + Math.round(((i + 1) * spreadMs) / count))),
      );
      return [...picked];
    },
    update(resource, id, patch, when) {
      const rec = byId.get(resource)!.get(id);
      if (!rec) throw new Error(`no ${resource} record ${id}`);
      Object.assign(rec.data, patch);
      rec.u = at(when);
      version++;
    },
    count(resource, f = {}) {
      return store[resource].filter(
        (rec) =>
          (f.cursusId === undefined || rec.cursusIds.includes(f.cursusId)) &&
          (f.kind === undefined || rec.data.kind === f.kind) &&
          (f.alumni === undefined || rec.data['alumni?'] === f.alumni),
      ).length;
    },
    ids: (resource) => store[resource].map((r) => r.id),
    close: () => server.close(),
  };
}

/** The whole deterministic data set: same seed and sizes → same records on every machine. */
function generate(seed: number, s: SchoolSizes, main: number, share: number): Record<SchoolResource, Rec[]> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const past = (maxDays: number) => ANCHOR - Math.floor((rnd() * maxDays * DAY) / 1000) * 1000;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const cursusIds = [
    main,
    ...range(s.cursus)
      .map((i) => (i >= main ? i + 1 : i))
      .slice(0, Math.max(0, s.cursus - 1)),
  ];
  const other = () => cursusIds[1 + Math.floor(rnd() * Math.max(1, cursusIds.length - 1))] ?? main;
  const inMain = (share: number) => (rnd() < share ? [main] : [other()]);

  const cursus: Rec[] = cursusIds.map((id, i) => {
    const u = past(2000);
    return {
      id,
      u,
      cursusIds: [id],
      data: {
        name: i === 0 ? '42cursus' : `Cursus ${id}`,
        slug: i === 0 ? '42cursus' : `cursus-${id}`,
        kind: i === 0 ? 'main' : pick(['piscine', 'external', 'main']),
        created_at: iso(u),
      },
    };
  });
  const cities = [
    'Paris',
    'Lyon',
    'Madrid',
    'Tokyo',
    'Berlin',
    'Lisboa',
    'Quebec',
    'Seoul',
    'Rome',
    'Vienna',
    'Prague',
    'Nice',
  ];
  const campuses: Rec[] = range(s.campuses).map((id) => ({
    id,
    u: past(800),
    cursusIds: [],
    data: {
      name: cities[(id - 1) % cities.length]! + (id > cities.length ? ` ${id}` : ''),
      time_zone: 'Europe/Paris',
      country: 'Sample',
      city: cities[(id - 1) % cities.length],
      active: rnd() > 0.1,
      users_count: Math.floor(rnd() * 3000),
    },
  }));
  const projects: Rec[] = range(s.projects).map((id) => {
    const u = past(900);
    const ids = rnd() < 0.8 ? [main] : [other()];
    return {
      id,
      u,
      cursusIds: ids,
      data: {
        name: `Project ${id}`,
        slug: `project-${id}`,
        difficulty: Math.floor(rnd() * 25) * 100,
        exam: rnd() < 0.05,
        parent: id > 10 && rnd() < 0.1 ? { id: 1 + Math.floor(rnd() * 10) } : null,
        cursus: ids.map((c) => ({ id: c })),
        created_at: iso(u - 30 * DAY),
      },
    };
  });
  const achievements: Rec[] = range(s.achievements).map((id) => ({
    id,
    u: past(900),
    cursusIds: [],
    data: {
      name: `Achievement ${id}`,
      description: `Reached milestone ${id}`,
      tier: pick(['none', 'easy', 'medium', 'hard', 'challenge']),
      kind: pick(['project', 'social', 'pedagogy', 'scolarity']),
      visible: rnd() > 0.05,
      nbr_of_success: rnd() < 0.5 ? Math.floor(rnd() * 100) : null,
    },
  }));
  const colors = ['#FF6950', '#4180DB', '#33C47F', '#A061D1'];
  const coalitions: Rec[] = range(s.coalitions).map((id) => ({
    id,
    u: past(400),
    cursusIds: [],
    data: {
      name: `Coalition ${id}`,
      slug: `coalition-${id}`,
      color: colors[id % colors.length],
      score: Math.floor(rnd() * 50_000),
      user_id: 1 + Math.floor(rnd() * Math.max(1, s.users)),
    },
  }));
  const users: Rec[] = range(s.users).map((id) => {
    const u = past(365);
    const r = rnd();
    return {
      id,
      u,
      cursusIds: inMain(share),
      data: {
        login: `student${id}`,
        email: `student${id}@student.example.org`,
        kind: r < 0.9 ? 'student' : r < 0.95 ? 'external' : 'admin',
        'alumni?': rnd() < 0.1,
        'active?': rnd() > 0.05,
        primary_campus_id: 1 + Math.floor(rnd() * Math.max(1, s.campuses)),
        pool_year: String(2019 + Math.floor(rnd() * 6)),
        level: Math.round(rnd() * 2000) / 100,
        created_at: iso(u - Math.floor(rnd() * 700) * DAY),
      },
    };
  });
  const userId = () => 1 + Math.floor(rnd() * Math.max(1, s.users));
  const projectsUsers: Rec[] = range(s.projectsUsers).map((id) => {
    const u = past(365);
    const mark = rnd() < 0.8 ? Math.floor(rnd() * 126) : null;
    const uid = userId();
    const pid = 1 + Math.floor(rnd() * Math.max(1, s.projects));
    return {
      id,
      u,
      cursusIds: inMain(share),
      data: {
        occurrence: Math.floor(rnd() * 3),
        final_mark: mark,
        status: mark === null ? 'in_progress' : 'finished',
        'validated?': mark === null ? null : mark >= 50,
        project: { id: pid, name: `Project ${pid}`, slug: `project-${pid}` },
        user: { id: uid, login: `student${uid}` },
        marked_at: mark === null ? null : iso(u),
        created_at: iso(u - 14 * DAY),
      },
    };
  });
  for (const pu of projectsUsers) pu.data.cursus_ids = pu.cursusIds;
  const achievementsUsers: Rec[] = range(s.achievementsUsers).map((id) => {
    const u = past(365);
    return {
      id,
      u,
      cursusIds: [],
      data: {
        achievement_id: 1 + Math.floor(rnd() * Math.max(1, s.achievements)),
        user_id: userId(),
        nbr_of_success: rnd() < 0.3 ? Math.floor(rnd() * 10) : null,
        created_at: iso(u),
      },
    };
  });
  const coalitionsUsers: Rec[] = range(s.coalitionsUsers).map((id) => {
    const u = past(365);
    return {
      id,
      u,
      cursusIds: [],
      data: {
        coalition_id: 1 + Math.floor(rnd() * Math.max(1, s.coalitions)),
        user_id: userId(),
        score: Math.floor(rnd() * 5000),
        rank: Math.floor(rnd() * 200),
        created_at: iso(u - 30 * DAY),
      },
    };
  });
  return {
    cursus,
    campuses,
    projects,
    achievements,
    coalitions,
    users,
    projects_users: projectsUsers,
    achievements_users: achievementsUsers,
    coalitions_users: coalitionsUsers,
  };
}
