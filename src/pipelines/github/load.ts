// GitHub answers → warehouse rows: validation (a bad item is rejected with its reason), the
// merges into the github schema, and the stored validators of conditional requests.
import type pg from 'pg';
import { z } from 'zod';

const ts = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp');
const count = z
  .number()
  .int()
  .nonnegative()
  .nullish()
  .transform((v) => v ?? 0);

export const eventItem = z.object({
  id: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform((v) => String(v)),
  // Nullable in GitHub's REST description (@octokit/openapi-types `event`): kept as NULL, not rejected.
  type: z.string().min(1).nullable(),
  actor: z.object({ login: z.string() }).nullish(),
  repo: z.object({ name: z.string() }).nullish(),
  payload: z.object({ action: z.string().nullish() }).nullish(),
  public: z.boolean().nullish(),
  created_at: ts.nullable(),
});

export const forkItem = z.object({
  id: z.number().int(),
  owner: z.object({ login: z.string(), id: z.number().int().nullish() }),
  // `minimal-repository` has created_at?: string | null.
  created_at: ts.nullish(),
  updated_at: ts.nullish(),
});

export const repoItem = z.object({
  id: z.number().int(),
  name: z.string(),
  full_name: z.string(),
  description: z.string().nullish(),
  html_url: z.string().nullish(),
  is_template: z.boolean().nullish(),
  fork: z.boolean().nullish(),
  archived: z.boolean().nullish(),
  forks_count: z.number().int().nullish(),
  created_at: ts.nullish(),
  updated_at: ts.nullish(),
});

const languageMetrics = z.object({
  name: z.string(),
  total_engaged_users: count,
  total_code_suggestions: count,
  total_code_acceptances: count,
  total_code_lines_suggested: count,
  total_code_lines_accepted: count,
});
export const copilotDayItem = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  total_active_users: count,
  total_engaged_users: count,
  copilot_ide_code_completions: z
    .object({
      total_engaged_users: count,
      editors: z
        .array(
          z.object({
            name: z.string(),
            models: z.array(z.object({ languages: z.array(languageMetrics).nullish() })).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  copilot_ide_chat: z
    .object({
      total_engaged_users: count,
      editors: z.array(z.object({ models: z.array(z.object({ total_chats: count })).nullish() })).nullish(),
    })
    .nullish(),
  copilot_dotcom_chat: z.object({ total_engaged_users: count }).nullish(),
  copilot_dotcom_pull_requests: z.object({ total_engaged_users: count }).nullish(),
});
export type CopilotDay = z.infer<typeof copilotDayItem>;

export async function reject(
  tx: pg.PoolClient,
  jobName: string,
  targetDate: string | undefined,
  reason: string,
  raw: unknown,
): Promise<void> {
  await tx.query('INSERT INTO etl_rejects (job_name, target_date, reason, raw) VALUES ($1, $2, $3, $4::jsonb)', [
    jobName,
    targetDate ?? null,
    reason.slice(0, 2000),
    JSON.stringify(raw ?? null),
  ]);
}

export const issuesOf = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'item'} ${i.message}`).join('; ');

/** Validates a list answer item by item: good rows, and the bad ones already written to etl_rejects. */
export async function validateItems<T>(
  tx: pg.PoolClient,
  schema: z.ZodType<T>,
  items: unknown,
  where: { jobName: string; targetDate?: string; what: string },
): Promise<{ good: T[]; rejected: number; read: number }> {
  if (!Array.isArray(items)) {
    await reject(
      tx,
      where.jobName,
      where.targetDate,
      `${where.what}: answer is not a JSON array`,
      typeof items === 'string' ? items.slice(0, 2000) : items,
    );
    return { good: [], rejected: 1, read: 0 };
  }
  const good: T[] = [];
  let rejected = 0;
  for (const item of items) {
    const p = schema.safeParse(item);
    if (p.success) good.push(p.data);
    else {
      await reject(tx, where.jobName, where.targetDate, `invalid ${where.what}: ${issuesOf(p.error)}`, item);
      rejected++;
    }
  }
  if (items.length !== good.length + rejected)
    throw new Error(`reconciliation failed for ${where.what}: read ${items.length} ≠ ${good.length} + ${rejected}`);
  return { good, rejected, read: items.length };
}

export async function upsertEvents(
  tx: pg.PoolClient,
  username: string,
  events: z.infer<typeof eventItem>[],
): Promise<number> {
  if (!events.length) return 0;
  const rows = events.map((e) => ({
    event_id: e.id,
    username: e.actor?.login ?? username,
    type: e.type,
    repo_name: e.repo?.name ?? null,
    action: e.payload?.action ?? null,
    public: e.public ?? null,
    created_at: e.created_at,
  }));
  const r = await tx.query<{ inserted: boolean }>(
    `INSERT INTO github.activity AS t (event_id, username, type, repo_name, action, public, created_at)
     SELECT DISTINCT ON (event_id) event_id, username, type, repo_name, action, public, created_at
       FROM jsonb_to_recordset($1::jsonb)
            AS x(event_id bigint, username text, type text, repo_name text, action text, public boolean,
                 created_at timestamptz)
     ON CONFLICT (event_id) DO UPDATE SET type = EXCLUDED.type, repo_name = EXCLUDED.repo_name,
       action = EXCLUDED.action, public = EXCLUDED.public, synced_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(rows)],
  );
  return r.rows.filter((x) => x.inserted).length;
}

export async function upsertCourses(tx: pg.PoolClient, repos: z.infer<typeof repoItem>[]): Promise<number> {
  if (!repos.length) return 0;
  const r = await tx.query<{ inserted: boolean }>(
    `INSERT INTO github.skills_courses AS t
            (repo_id, name, full_name, description, html_url, is_template, forks_count, created_at, updated_at)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, name text, full_name text, description text,
                                                      html_url text, is_template boolean, forks_count int,
                                                      created_at timestamptz, updated_at timestamptz)
     ON CONFLICT (repo_id) DO UPDATE SET name = EXCLUDED.name, full_name = EXCLUDED.full_name,
       description = EXCLUDED.description,
       html_url = EXCLUDED.html_url, is_template = EXCLUDED.is_template, forks_count = EXCLUDED.forks_count,
       created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, synced_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(repos)],
  );
  return r.rows.filter((x) => x.inserted).length;
}

export async function upsertForks(
  tx: pg.PoolClient,
  course: { id: number; name: string },
  forks: z.infer<typeof forkItem>[],
): Promise<number> {
  if (!forks.length) return 0;
  const rows = forks.map((f) => ({
    fork_id: f.id,
    owner_login: f.owner.login,
    owner_id: f.owner.id ?? null,
    created_at: f.created_at ?? null,
    updated_at: f.updated_at ?? null,
  }));
  const r = await tx.query<{ inserted: boolean }>(
    `INSERT INTO github.skills_enrollments AS t
            (fork_id, course_repo_id, course_name, owner_login, owner_id, created_at, updated_at)
     SELECT DISTINCT ON (fork_id) fork_id, $2, $3, owner_login, owner_id, created_at, updated_at
       FROM jsonb_to_recordset($1::jsonb)
            AS x(fork_id bigint, owner_login text, owner_id bigint, created_at timestamptz, updated_at timestamptz)
     ON CONFLICT (fork_id) DO UPDATE SET owner_login = EXCLUDED.owner_login, owner_id = EXCLUDED.owner_id,
       updated_at = EXCLUDED.updated_at, synced_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(rows), course.id, course.name],
  );
  return r.rows.filter((x) => x.inserted).length;
}

/** Per day: totals over editors and models; per language: sums over editors and models. */
export async function upsertCopilotDays(
  tx: pg.PoolClient,
  org: string,
  days: CopilotDay[],
): Promise<{ days: number; languages: number }> {
  if (!days.length) return { days: 0, languages: 0 };
  const daily = days.map((d) => {
    const langs = (d.copilot_ide_code_completions?.editors ?? []).flatMap((e) =>
      (e.models ?? []).flatMap((m) => m.languages ?? []),
    );
    const sum = (k: keyof z.infer<typeof languageMetrics>) => langs.reduce((s, l) => s + (l[k] as number), 0);
    return {
      day: d.date,
      total_active_users: d.total_active_users,
      total_engaged_users: d.total_engaged_users,
      ide_completions_engaged_users: d.copilot_ide_code_completions?.total_engaged_users ?? 0,
      ide_chat_engaged_users: d.copilot_ide_chat?.total_engaged_users ?? 0,
      dotcom_chat_engaged_users: d.copilot_dotcom_chat?.total_engaged_users ?? 0,
      dotcom_pr_engaged_users: d.copilot_dotcom_pull_requests?.total_engaged_users ?? 0,
      code_suggestions: sum('total_code_suggestions'),
      code_acceptances: sum('total_code_acceptances'),
      lines_suggested: sum('total_code_lines_suggested'),
      lines_accepted: sum('total_code_lines_accepted'),
      ide_chats: (d.copilot_ide_chat?.editors ?? [])
        .flatMap((e) => e.models ?? [])
        .reduce((s, m) => s + m.total_chats, 0),
    };
  });
  const languages = days.flatMap((d) => {
    const per = new Map<
      string,
      {
        engaged_users: number;
        code_suggestions: number;
        code_acceptances: number;
        lines_suggested: number;
        lines_accepted: number;
      }
    >();
    for (const e of d.copilot_ide_code_completions?.editors ?? [])
      for (const m of e.models ?? [])
        for (const l of m.languages ?? []) {
          const a = per.get(l.name) ?? {
            engaged_users: 0,
            code_suggestions: 0,
            code_acceptances: 0,
            lines_suggested: 0,
            lines_accepted: 0,
          };
          a.engaged_users += l.total_engaged_users;
          a.code_suggestions += l.total_code_suggestions;
          a.code_acceptances += l.total_code_acceptances;
          a.lines_suggested += l.total_code_lines_suggested;
          a.lines_accepted += l.total_code_lines_accepted;
          per.set(l.name, a);
        }
    return [...per].map(([language, a]) => ({ day: d.date, language, ...a }));
  });
  await tx.query(
    `INSERT INTO github.copilot_daily (org, day, total_active_users, total_engaged_users, ide_completions_engaged_users,
       ide_chat_engaged_users, dotcom_chat_engaged_users, dotcom_pr_engaged_users, code_suggestions, code_acceptances,
       lines_suggested, lines_accepted, ide_chats)
     SELECT $2, day, total_active_users, total_engaged_users, ide_completions_engaged_users, ide_chat_engaged_users,
            dotcom_chat_engaged_users, dotcom_pr_engaged_users, code_suggestions, code_acceptances, lines_suggested,
            lines_accepted, ide_chats
       FROM jsonb_to_recordset($1::jsonb) AS x(day date, total_active_users int, total_engaged_users int,
            ide_completions_engaged_users int, ide_chat_engaged_users int, dotcom_chat_engaged_users int,
            dotcom_pr_engaged_users int, code_suggestions int, code_acceptances int,
            lines_suggested int, lines_accepted int, ide_chats int)
     ON CONFLICT (org, day) DO UPDATE SET total_active_users = EXCLUDED.total_active_users,
       total_engaged_users = EXCLUDED.total_engaged_users,
       ide_completions_engaged_users = EXCLUDED.ide_completions_engaged_users,
       ide_chat_engaged_users = EXCLUDED.ide_chat_engaged_users,
       dotcom_chat_engaged_users = EXCLUDED.dotcom_chat_engaged_users,
       dotcom_pr_engaged_users = EXCLUDED.dotcom_pr_engaged_users,
       code_suggestions = EXCLUDED.code_suggestions, code_acceptances = EXCLUDED.code_acceptances,
       lines_suggested = EXCLUDED.lines_suggested, lines_accepted = EXCLUDED.lines_accepted,
       ide_chats = EXCLUDED.ide_chats, synced_at = now()`,
    [JSON.stringify(daily), org],
  );
  // A day's language breakdown is replaced whole: a language that disappeared must not linger.
  await tx.query('DELETE FROM github.copilot_languages WHERE org = $1 AND day = ANY($2::date[])', [
    org,
    days.map((d) => d.date),
  ]);
  if (languages.length) {
    await tx.query(
      `INSERT INTO github.copilot_languages
              (org, day, language, engaged_users, code_suggestions, code_acceptances, lines_suggested, lines_accepted)
       SELECT $2, day, language, engaged_users, code_suggestions, code_acceptances, lines_suggested, lines_accepted
         FROM jsonb_to_recordset($1::jsonb) AS x(day date, language text, engaged_users int, code_suggestions int,
              code_acceptances int, lines_suggested int, lines_accepted int)`,
      [JSON.stringify(languages), org],
    );
  }
  return { days: daily.length, languages: languages.length };
}

export interface CachedResponse {
  etag: string | null;
  last_modified: string | null;
  body: unknown;
}

export async function cachedResponse(db: pg.Pool | pg.PoolClient, key: string): Promise<CachedResponse | undefined> {
  const { rows } = await db.query<CachedResponse>(
    'SELECT etag, last_modified, body FROM api_http_cache WHERE cache_key = $1',
    [key],
  );
  return rows[0];
}

/** After a 200: the new validators (and the body, where a 304 must be answered from it). */
export async function storeResponse(
  tx: pg.PoolClient,
  key: string,
  v: { etag?: string; lastModified?: string; body?: unknown },
): Promise<void> {
  await tx.query(
    `INSERT INTO api_http_cache (cache_key, etag, last_modified, body, fetched_at, validated_at)
      VALUES ($1, $2, $3, $4::jsonb, now(), now())
     ON CONFLICT (cache_key) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
       body = EXCLUDED.body, fetched_at = now(), validated_at = now()`,
    [key, v.etag ?? null, v.lastModified ?? null, v.body === undefined ? null : JSON.stringify(v.body)],
  );
}

export async function markNotModified(tx: pg.PoolClient, key: string): Promise<void> {
  await tx.query(
    'UPDATE api_http_cache SET validated_at = now(), not_modified_count = not_modified_count + 1 WHERE cache_key = $1',
    [key],
  );
}
