// `learnsync plan` for GitHub nodes, from what the warehouse knows alone: GitHub's rate limit is
// too precious to spend on a dry run. Conditional calls are counted as calls, though a 304 answer
// costs no rate limit.
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { PipelineNode } from '../types.js';
import { PER_PAGE } from './activities.js';
import { alreadySucceeded, pagesFor, type PlanLine, type PlanRun } from '../../runtime/plan-lines.js';

export async function planGithubNode(
  warehouse: pg.Pool,
  config: Config,
  node: PipelineNode,
  run: PlanRun,
  sampleUsers: string[] = [],
): Promise<PlanLine[]> {
  if (await alreadySucceeded(warehouse, node.id, run)) {
    return [
      {
        job: node.id,
        endpoint: '(all)',
        mode: 'skipped',
        calls: 0,
        basis: `already succeeded for ${run.targetDate}; --force to run again`,
      },
    ];
  }
  const budget = await lastBudget(warehouse);
  if (node.activity === 'syncGithubCopilotMetrics') {
    if (config.github.copilotApi === 'legacy')
      return [
        {
          job: node.id,
          endpoint: '/orgs/{org}/copilot/metrics',
          mode: 'conditional',
          calls: 1,
          basis: `GITHUB_COPILOT_API=legacy: one call for up to 100 days; a 304 is free${budget}`,
        },
      ];
    const day = run.targetDate ?? new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const recent = Date.parse(day) >= Date.now() - 29 * 86_400_000;
    const scopes = (config.github.org || !config.github.enterprise ? 1 : 0) + (config.github.enterprise ? 1 : 0);
    const reports = recent ? 4 : 2;
    return [
      {
        job: node.id,
        endpoint: '{org|enterprise}/copilot/metrics/reports/*',
        mode: recent ? '1-day + 28-day latest' : '1-day (backfill)',
        calls: reports * scopes,
        basis:
          `${reports} report(s) × ${scopes} scope(s) for ${day}; ` +
          `each report's files are downloaded from signed links (no rate limit)${budget}`,
      },
    ];
  }
  if (node.activity === 'exportGithubFiles')
    return [{ job: node.id, endpoint: '(warehouse)', mode: 'files', calls: 0, basis: 'the five GitHub CSV files' }];
  if (node.activity === 'syncGithubUserEvents') {
    const { rows } = await warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM (SELECT username FROM github.tracked_users UNION SELECT unnest($1::text[])) u',
      [[...config.github.trackedUsers, ...sampleUsers]],
    );
    const n = rows[0]!.n;
    return [
      {
        job: node.id,
        endpoint: '/users/{username}/events',
        mode: 'conditional',
        calls: n,
        basis: `one call per tracked learner (${n}); +1 or +2 for a learner with over 100 new events${budget}`,
      },
    ];
  }
  if (node.activity === 'syncGithubSkills') {
    const { rows } = await warehouse.query<{
      course_repo_id: string;
      name: string;
      forks_count: number | null;
      known: number;
    }>(
      `SELECT c.repo_id AS course_repo_id, c.name, c.forks_count, count(e.fork_id)::int AS known
         FROM github.skills_courses c LEFT JOIN github.skills_enrollments e ON e.course_repo_id = c.repo_id
        GROUP BY c.repo_id, c.name, c.forks_count ORDER BY c.name`,
    );
    const lines: PlanLine[] = [
      {
        job: node.id,
        endpoint: '/orgs/{org}/repos',
        mode: 'conditional',
        calls: pagesFor(rows.length, PER_PAGE),
        basis: `${rows.length} courses known${budget}`,
      },
    ];
    if (!rows.length) {
      lines.push({
        job: node.id,
        endpoint: '/repos/{owner}/{repo}/forks',
        mode: 'full (first read)',
        calls: null,
        basis: 'unknown until the course list has been read once',
      });
      return lines;
    }
    let full = 0;
    let windows = 0;
    for (const c of rows) {
      if (run.force || c.known === 0) full += pagesFor(c.forks_count ?? 0, PER_PAGE);
      else windows++;
    }
    if (full)
      lines.push({
        job: node.id,
        endpoint: '/repos/{owner}/{repo}/forks',
        mode: 'full',
        calls: full,
        basis: 'every page of forks, from the stored forks_count',
      });
    if (windows)
      lines.push({
        job: node.id,
        endpoint: '/repos/{owner}/{repo}/forks',
        mode: 'conditional',
        calls: windows,
        basis: `page 1 of ${windows} courses (304 when no new fork); +1 per 100 new forks`,
      });
    return lines;
  }
  return [];
}

async function lastBudget(warehouse: pg.Pool): Promise<string> {
  const { rows } = await warehouse.query<{ rate_limit_remaining: number; rate_limit_limit: number | null }>(
    `SELECT rate_limit_remaining, rate_limit_limit FROM api_hits WHERE source = 'github'
      AND rate_limit_remaining IS NOT NULL
      ORDER BY last_call_at DESC LIMIT 1`,
  );
  const r = rows[0];
  return r
    ? `; rate-limit budget last seen: ${r.rate_limit_remaining}${r.rate_limit_limit ? `/${r.rate_limit_limit}` : ''}`
    : '';
}
