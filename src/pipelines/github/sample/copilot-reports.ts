// The sample side of GitHub's Copilot usage metrics reports: deterministic per-user and
// organisation records for any day, the API answers ({ download_links, report_day } or
// { download_links, report_start_day, report_end_day }, as @octokit/openapi-types describes them)
// and a separate "storage" server that serves the NDJSON report files behind signed, expiring
// links — refusing any Authorization header, as signed storage URLs do, so a test proves the token
// never travels to the download host.
import { fnv1a, prng } from '../../../stack/sample-kit/random.js';
import { listen, RequestStats, type SampleRequest, type SampleResponse } from '../../../stack/sample-kit/http-kit.js';

const IDES = ['vscode', 'jetbrains', 'neovim'];
const FEATURES = ['code_completion', 'chat_panel_ask_mode', 'chat_panel_agent_mode', 'agent_edit'];
const LANGUAGES = ['python', 'typescript', 'javascript', 'go', 'java', 'csharp', 'ruby', 'markdown'];
const MODELS = ['gpt-4.1', 'claude-sonnet-4'];

export type ReportName = 'organization-1-day' | 'users-1-day' | 'organization-28-day' | 'users-28-day';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Counts {
  user_initiated_interaction_count: number;
  code_generation_activity_count: number;
  code_acceptance_activity_count: number;
  loc_suggested_to_add_sum: number;
  loc_suggested_to_delete_sum: number;
  loc_added_sum: number;
  loc_deleted_sum: number;
}
const zero = (): Counts => ({
  user_initiated_interaction_count: 0,
  code_generation_activity_count: 0,
  code_acceptance_activity_count: 0,
  loc_suggested_to_add_sum: 0,
  loc_suggested_to_delete_sum: 0,
  loc_added_sum: 0,
  loc_deleted_sum: 0,
});
function addInto(a: Counts, b: Counts): void {
  for (const k of Object.keys(zero()) as (keyof Counts)[]) a[k] += b[k];
}

/** One user's record for one day, in the documented user-level shape; undefined when the user was idle. */
export function userDay(scopeId: string, login: string, userId: number, day: number) {
  const r = prng(fnv1a(`${scopeId}:${login}:${day}`));
  if (r() < 0.35) return undefined;
  const byLangFeature = LANGUAGES.filter(() => r() < 0.3).flatMap((language) =>
    FEATURES.filter(() => r() < 0.5).map((feature) => {
      const gen = 1 + Math.floor(r() * 40);
      const acc = Math.floor(gen * (0.2 + r() * 0.4));
      return {
        language,
        feature,
        code_generation_activity_count: gen,
        code_acceptance_activity_count: acc,
        loc_suggested_to_add_sum: gen * 3,
        loc_suggested_to_delete_sum: Math.floor(gen / 2),
        loc_added_sum: acc * 3,
        loc_deleted_sum: Math.floor(acc / 2),
      };
    }),
  );
  if (!byLangFeature.length) return undefined;
  const totals = zero();
  const byFeature = new Map<string, Counts>();
  for (const x of byLangFeature) {
    const c: Counts = {
      ...zero(),
      code_generation_activity_count: x.code_generation_activity_count,
      code_acceptance_activity_count: x.code_acceptance_activity_count,
      loc_suggested_to_add_sum: x.loc_suggested_to_add_sum,
      loc_suggested_to_delete_sum: x.loc_suggested_to_delete_sum,
      loc_added_sum: x.loc_added_sum,
      loc_deleted_sum: x.loc_deleted_sum,
      user_initiated_interaction_count:
        x.feature === 'code_completion' ? 0 : Math.ceil(x.code_generation_activity_count / 2),
    };
    addInto(totals, c);
    const f = byFeature.get(x.feature) ?? zero();
    addInto(f, c);
    byFeature.set(x.feature, f);
  }
  const ide = IDES[Math.floor(r() * IDES.length)]!;
  return {
    day: iso(day),
    organization_id: scopeId,
    user_id: userId,
    user_login: login,
    ...totals,
    used_agent: byFeature.has('chat_panel_agent_mode') || byFeature.has('agent_edit'),
    used_chat: byFeature.has('chat_panel_ask_mode'),
    used_cli: false,
    totals_by_ide: [
      {
        ide,
        ...totals,
        last_known_ide_version: { ide_version: '1.99.0', sampled_at: `${iso(day)}T08:00:00.000Z` },
      },
    ],
    totals_by_feature: [...byFeature].map(([feature, c]) => ({ feature, ...c })),
    totals_by_language_feature: byLangFeature,
    totals_by_language_model: [],
    totals_by_model_feature: MODELS.slice(0, 1).map((model) => ({ model, feature: 'chat_panel_ask_mode', ...zero() })),
  };
}

export type UserDay = NonNullable<ReturnType<typeof userDay>>;

/** The organisation's day, summed from its users' records (so the two reports agree). */
export function organizationDay(scopeId: string, users: UserDay[], day: number) {
  const totals = zero();
  const byLang = new Map<string, Counts & { language: string; feature: string }>();
  const byIde = new Map<string, Counts>();
  const byFeature = new Map<string, Counts>();
  for (const u of users) {
    const { user_initiated_interaction_count, code_generation_activity_count, code_acceptance_activity_count } = u;
    addInto(totals, {
      user_initiated_interaction_count,
      code_generation_activity_count,
      code_acceptance_activity_count,
      loc_suggested_to_add_sum: u.loc_suggested_to_add_sum,
      loc_suggested_to_delete_sum: u.loc_suggested_to_delete_sum,
      loc_added_sum: u.loc_added_sum,
      loc_deleted_sum: u.loc_deleted_sum,
    });
    for (const x of u.totals_by_language_feature) {
      const k = `${x.language}|${x.feature}`;
      const a = byLang.get(k) ?? { ...zero(), language: x.language, feature: x.feature };
      addInto(a, { ...zero(), ...x, user_initiated_interaction_count: 0 });
      byLang.set(k, a);
    }
    for (const x of u.totals_by_ide) {
      const a = byIde.get(x.ide) ?? zero();
      addInto(a, x);
      byIde.set(x.ide, a);
    }
    for (const x of u.totals_by_feature) {
      const a = byFeature.get(x.feature) ?? zero();
      addInto(a, x);
      byFeature.set(x.feature, a);
    }
  }
  const active = users.length;
  return {
    day: iso(day),
    organization_id: scopeId,
    daily_active_users: active,
    weekly_active_users: active + Math.floor(active / 2),
    monthly_active_users: active * 2,
    monthly_active_chat_users: users.filter((u) => u.used_chat).length,
    monthly_active_agent_users: users.filter((u) => u.used_agent).length,
    ...totals,
    totals_by_ide: [...byIde].map(([ide, c]) => ({ ide, ...c })),
    totals_by_feature: [...byFeature].map(([feature, c]) => ({ feature, ...c })),
    totals_by_language_feature: [...byLang.values()].map(({ user_initiated_interaction_count: _u, ...rest }) => rest),
    totals_by_language_model: [],
    totals_by_model_feature: [],
    pull_requests: { total_created: Math.floor(active / 3), total_reviewed: Math.floor(active / 4) },
  };
}

export interface ReportStoreOptions {
  /** How long a signed link stays valid. */
  linkTtlMs: number;
  now: () => number;
  secret: string;
}

export interface ReportStore {
  url: string;
  stats: RequestStats;
  /** Links issued so far (tests expire them). */
  issue(files: string[][]): string[];
  /** Makes every link issued so far expired. */
  expireAll(): void;
  /** The next n downloads are refused as expired, whatever their link. */
  refuseNext(n: number): void;
  close(): Promise<void>;
}

/** The download host: /reports/<n>/<file>.ndjson?expires=…&sig=…, serving NDJSON bodies held in memory. */
export async function startReportStore(opts: ReportStoreOptions): Promise<ReportStore> {
  const stats = new RequestStats();
  const files = new Map<string, string>();
  let n = 0;
  let expiredUpTo = 0;
  let refuse = 0;
  const sign = (path: string, expires: number) => fnv1a(`${opts.secret}:${path}:${expires}`).toString(16);
  const handle = (req: SampleRequest): SampleResponse => {
    const text = (status: number, code: string, message: string): SampleResponse => ({
      status,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    });
    if (req.method !== 'GET') return text(405, 'UnsupportedHttpVerb', 'The resource does not support this verb.');
    if (req.headers.authorization)
      return text(400, 'InvalidAuthenticationInfo', 'Authentication information is not given in the correct format.');
    const body = files.get(req.path);
    const expires = Number(req.query.get('expires'));
    if (body === undefined || req.query.get('sig') !== sign(req.path, expires))
      return text(403, 'AuthenticationFailed', 'Signature did not match.');
    const batch = Number(/^\/reports\/(\d+)\//.exec(req.path)?.[1]);
    if (refuse > 0) {
      refuse--;
      return text(403, 'AuthenticationFailed', 'Signed expiry time has passed.');
    }
    if (expires <= opts.now() || batch <= expiredUpTo)
      return text(403, 'AuthenticationFailed', 'Signed expiry time has passed.');
    return { status: 200, headers: { 'content-type': 'application/x-ndjson' }, body };
  };
  const server = await listen(handle, (req, status) =>
    stats.record({ method: req.method, path: req.path, status, query: '' }),
  );
  return {
    url: server.url,
    stats,
    issue(contents) {
      const batch = ++n;
      const expires = opts.now() + opts.linkTtlMs;
      return contents.map((lines, i) => {
        const path = `/reports/${batch}/copilot-usage-${i + 1}.ndjson`;
        files.set(path, lines.map((l) => l + '\n').join(''));
        return `${server.url}${path}?expires=${expires}&sig=${sign(path, expires)}`;
      });
    },
    refuseNext(k) {
      refuse = k;
    },
    expireAll() {
      expiredUpTo = n;
    },
    close: () => server.close(),
  };
}

/** Splits lines into two files when there are several, as GitHub may hand out several links. */
export function twoFiles(lines: string[]): string[][] {
  if (lines.length < 2) return [lines];
  const half = Math.ceil(lines.length / 2);
  return [lines.slice(0, half), lines.slice(half)];
}
