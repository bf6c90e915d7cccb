// Copilot usage metrics report files → github.copilot_daily, github.copilot_languages and
// github.copilot_user_daily. Every record is validated on its own (a bad one goes to etl_rejects
// with its file and line), rows are written in batches as the file streams in, and each report
// replaces exactly the days it covers — so a rerun, or the 28-day report overlapping the 1-day
// ones, converges on the same rows. read = loaded + rejected is checked per report.
import type pg from 'pg';
import { z } from 'zod';
import { readCopilotReport, type CopilotReport, type CopilotScope } from '../../connectors/github/reports.js';
import type { GithubClient } from '../../connectors/github/client.js';
import { reportPosition } from '../../runtime/heartbeat.js';
import { issuesOf, reject } from './load.js';

const count = z
  .number()
  .int()
  .nonnegative()
  .nullish()
  .transform((v) => v ?? 0);
const optionalCount = z.number().int().nonnegative().nullish();
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'not a YYYY-MM-DD day');

const activity = {
  code_generation_activity_count: count,
  code_acceptance_activity_count: count,
  loc_suggested_to_add_sum: count,
  loc_added_sum: count,
  loc_deleted_sum: count,
};
const languageFeature = z.object({ language: z.string().min(1), feature: z.string().nullish(), ...activity });

export const orgDayRecord = z.object({
  day,
  daily_active_users: count,
  weekly_active_users: optionalCount,
  monthly_active_users: optionalCount,
  monthly_active_chat_users: optionalCount,
  monthly_active_agent_users: optionalCount,
  user_initiated_interaction_count: count,
  ...activity,
  totals_by_language_feature: z.array(languageFeature).nullish(),
});
export type OrgDayRecord = z.infer<typeof orgDayRecord>;

export const userDayRecord = z.object({
  day,
  user_id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(Number),
  user_login: z.string().min(1),
  user_initiated_interaction_count: count,
  ...activity,
  used_agent: z.boolean().nullish(),
  used_chat: z.boolean().nullish(),
  used_cli: z.boolean().nullish(),
  totals_by_language_feature: z.array(languageFeature).nullish(),
  totals_by_ide: z.array(z.object({ ide: z.string() })).nullish(),
});
export type UserDayRecord = z.infer<typeof userDayRecord>;

/** The `org` key of a scope's rows. */
export const scopeKey = (s: CopilotScope) => (s.kind === 'org' ? s.org : `enterprise:${s.enterprise}`);

export interface ReportLoad {
  available: boolean;
  read: number;
  loaded: number;
  inserted: number;
  rejected: number;
  days: string[];
  linkRefreshes: number;
}

const BATCH = 500;

/** Reads one report into the warehouse inside the caller's transaction. */
export async function loadCopilotReport(
  tx: pg.PoolClient,
  client: GithubClient,
  scope: CopilotScope,
  report: CopilotReport,
  where: { jobName: string; targetDate?: string; day?: string; signal?: AbortSignal },
): Promise<ReportLoad> {
  const key = scopeKey(scope);
  const users = report.startsWith('users');
  const out: ReportLoad = {
    available: false,
    read: 0,
    loaded: 0,
    inserted: 0,
    rejected: 0,
    days: [],
    linkRefreshes: 0,
  };
  let range: { from: string; to: string } | undefined;
  const orgDays: OrgDayRecord[] = [];
  let batch: UserDayRecord[] = [];
  const touched = new Set<string>();
  const what = `${report} of ${key}`;

  const rejectRecord = async (reason: string, raw: unknown) => {
    out.rejected++;
    await reject(tx, where.jobName, where.targetDate, `${what}: ${reason}`, raw);
  };
  const flush = async () => {
    if (!batch.length) return;
    out.inserted += await upsertUserDays(tx, key, batch);
    batch = [];
  };
  const take = async (value: unknown, at: string) => {
    out.read++;
    const p = (users ? userDayRecord : orgDayRecord).safeParse(value);
    if (!p.success) return rejectRecord(`${at}: invalid record: ${issuesOf(p.error)}`, value);
    const rec = p.data;
    if (range && (rec.day < range.from || rec.day > range.to))
      return rejectRecord(`${at}: day ${rec.day} outside the report's ${range.from}..${range.to}`, value);
    out.loaded++;
    touched.add(rec.day);
    if (users) {
      batch.push(rec as UserDayRecord);
      if (batch.length >= BATCH) await flush();
    } else orgDays.push(rec as OrgDayRecord);
  };

  const read = await readCopilotReport(client, scope, report, {
    day: where.day,
    signal: where.signal,
    onLinks: async (meta) => {
      const from = meta.report_day ?? meta.report_start_day;
      const to = meta.report_day ?? meta.report_end_day;
      if (!from || !to) return;
      range = { from, to };
      // The report replaces its days whole: a user who vanished from a day must not linger.
      if (users)
        await tx.query('DELETE FROM github.copilot_user_daily WHERE org = $1 AND day BETWEEN $2 AND $3', [
          key,
          from,
          to,
        ]);
    },
    onLine: async (l) => {
      // Long reports (large organisations, 28 days of users) heartbeat where they are.
      if (l.line % 1000 === 0) reportPosition({ report: what, file: l.file, line: l.line });
      const at = `file ${l.file} line ${l.line}`;
      if ('error' in l) {
        out.read++;
        return rejectRecord(`${at}: ${l.error}`, l.raw);
      }
      // Organisation reports come as day records or as containers of day_totals (28-day shape).
      const v = l.value as { day_totals?: unknown };
      if (!users && v && typeof v === 'object' && Array.isArray(v.day_totals)) {
        for (const [i, d] of v.day_totals.entries()) await take(d, `${at} day_totals[${i}]`);
      } else await take(l.value, at);
    },
  });
  await flush();
  if (orgDays.length) out.inserted += await upsertOrgDays(tx, key, orgDays);
  if (touched.size) await refreshLanguageUsers(tx, key, [...touched]);
  if (out.read !== out.loaded + out.rejected)
    throw new Error(`reconciliation failed for ${what}: read ${out.read} ≠ ${out.loaded} + ${out.rejected}`);
  return { ...out, available: read.available, days: [...touched].sort(), linkRefreshes: read.linkRefreshes };
}

async function upsertUserDays(tx: pg.PoolClient, key: string, recs: UserDayRecord[]): Promise<number> {
  const rows = recs.map((r) => ({
    day: r.day,
    user_id: r.user_id,
    user_login: r.user_login,
    interactions: r.user_initiated_interaction_count,
    generations: r.code_generation_activity_count,
    acceptances: r.code_acceptance_activity_count,
    suggested: r.loc_suggested_to_add_sum,
    accepted: r.loc_added_sum,
    deleted: r.loc_deleted_sum,
    used_agent: r.used_agent ?? null,
    used_chat: r.used_chat ?? null,
    used_cli: r.used_cli ?? null,
    languages: [...new Set((r.totals_by_language_feature ?? []).map((x) => x.language))].sort(),
    ides: [...new Set((r.totals_by_ide ?? []).map((x) => x.ide))].sort(),
  }));
  const res = await tx.query<{ inserted: boolean }>(
    `INSERT INTO github.copilot_user_daily AS t
            (org, day, user_id, user_login, user_initiated_interactions, code_generations, code_acceptances,
             lines_suggested, lines_accepted, lines_deleted, used_agent, used_chat, used_cli, languages, ides)
     SELECT DISTINCT ON (day, user_id) $2, day, user_id, user_login, interactions, generations, acceptances,
            suggested, accepted, deleted, used_agent, used_chat, used_cli, languages, ides
       FROM jsonb_to_recordset($1::jsonb)
            AS x(day date, user_id bigint, user_login text, interactions int, generations int, acceptances int,
                 suggested int, accepted int, deleted int, used_agent boolean, used_chat boolean,
                 used_cli boolean, languages text[], ides text[])
     ON CONFLICT (org, day, user_id) DO UPDATE SET
       user_login = EXCLUDED.user_login,
       user_initiated_interactions = EXCLUDED.user_initiated_interactions,
       code_generations = EXCLUDED.code_generations,
       code_acceptances = EXCLUDED.code_acceptances,
       lines_suggested = EXCLUDED.lines_suggested,
       lines_accepted = EXCLUDED.lines_accepted,
       lines_deleted = EXCLUDED.lines_deleted,
       used_agent = EXCLUDED.used_agent,
       used_chat = EXCLUDED.used_chat,
       used_cli = EXCLUDED.used_cli,
       languages = EXCLUDED.languages,
       ides = EXCLUDED.ides,
       synced_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(rows), key],
  );
  return res.rows.filter((r) => r.inserted).length;
}

/** Organisation days: the reports' measures, and the legacy columns where the meaning carries over. */
async function upsertOrgDays(tx: pg.PoolClient, key: string, days: OrgDayRecord[]): Promise<number> {
  const latest = new Map(days.map((d) => [d.day, d]));
  const rows = [...latest.values()].map((d) => ({
    day: d.day,
    dau: d.daily_active_users,
    wau: d.weekly_active_users ?? null,
    mau: d.monthly_active_users ?? null,
    mau_chat: d.monthly_active_chat_users ?? null,
    mau_agent: d.monthly_active_agent_users ?? null,
    interactions: d.user_initiated_interaction_count,
    generations: d.code_generation_activity_count,
    acceptances: d.code_acceptance_activity_count,
    suggested: d.loc_suggested_to_add_sum,
    accepted: d.loc_added_sum,
    deleted: d.loc_deleted_sum,
  }));
  const res = await tx.query<{ inserted: boolean }>(
    `INSERT INTO github.copilot_daily AS t
            (org, day, metrics_source, total_active_users, weekly_active_users, monthly_active_users,
             monthly_active_chat_users, monthly_active_agent_users, user_initiated_interactions, code_suggestions,
             code_acceptances, lines_suggested, lines_accepted, lines_deleted, ide_chats)
     SELECT $2, day, 'reports', dau, wau, mau, mau_chat, mau_agent, interactions, generations, acceptances,
            suggested, accepted, deleted, interactions
       FROM jsonb_to_recordset($1::jsonb)
            AS x(day date, dau int, wau int, mau int, mau_chat int, mau_agent int, interactions int,
                 generations int, acceptances int, suggested int, accepted int, deleted int)
     ON CONFLICT (org, day) DO UPDATE SET
       metrics_source = 'reports',
       total_active_users = EXCLUDED.total_active_users,
       weekly_active_users = EXCLUDED.weekly_active_users,
       monthly_active_users = EXCLUDED.monthly_active_users,
       monthly_active_chat_users = EXCLUDED.monthly_active_chat_users,
       monthly_active_agent_users = EXCLUDED.monthly_active_agent_users,
       user_initiated_interactions = EXCLUDED.user_initiated_interactions,
       code_suggestions = EXCLUDED.code_suggestions,
       code_acceptances = EXCLUDED.code_acceptances,
       lines_suggested = EXCLUDED.lines_suggested,
       lines_accepted = EXCLUDED.lines_accepted,
       lines_deleted = EXCLUDED.lines_deleted,
       ide_chats = EXCLUDED.ide_chats,
       synced_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [JSON.stringify(rows), key],
  );
  const languages = [...latest.values()].flatMap((d) => {
    const per = new Map<string, { suggestions: number; acceptances: number; suggested: number; accepted: number }>();
    for (const l of d.totals_by_language_feature ?? []) {
      const a = per.get(l.language) ?? { suggestions: 0, acceptances: 0, suggested: 0, accepted: 0 };
      a.suggestions += l.code_generation_activity_count;
      a.acceptances += l.code_acceptance_activity_count;
      a.suggested += l.loc_suggested_to_add_sum;
      a.accepted += l.loc_added_sum;
      per.set(l.language, a);
    }
    return [...per].map(([language, a]) => ({ day: d.day, language, ...a }));
  });
  await tx.query('DELETE FROM github.copilot_languages WHERE org = $1 AND day = ANY($2::date[])', [
    key,
    [...latest.keys()],
  ]);
  if (languages.length)
    await tx.query(
      `INSERT INTO github.copilot_languages
              (org, day, language, code_suggestions, code_acceptances, lines_suggested, lines_accepted)
       SELECT $2, day, language, suggestions, acceptances, suggested, accepted
         FROM jsonb_to_recordset($1::jsonb)
              AS x(day date, language text, suggestions int, acceptances int, suggested int, accepted int)`,
      [JSON.stringify(languages), key],
    );
  return res.rows.filter((r) => r.inserted).length;
}

/** A language's engaged users on a day: the users whose records that day used it (from the users report). */
async function refreshLanguageUsers(tx: pg.PoolClient, key: string, days: string[]): Promise<void> {
  await tx.query(
    `UPDATE github.copilot_languages l
        SET engaged_users = (SELECT count(*) FROM github.copilot_user_daily u
                              WHERE u.org = l.org AND u.day = l.day AND l.language = ANY(u.languages))
      WHERE l.org = $1 AND l.day = ANY($2::date[])`,
    [key, days],
  );
}
