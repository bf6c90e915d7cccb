// Shared by the API source tests: config pointing at a local sample server, activity deps, and
// small warehouse queries.
import { pino } from 'pino';
import type { ActivityDeps } from '../../src/runtime/deps.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Pool } from '../../src/connectors/postgres.js';
import type { NodeInput } from '../../src/pipelines/types.js';
import type { GithubServer } from '../../src/pipelines/github/sample/server.js';
import type { SchoolApiServer } from '../../src/pipelines/school-api/sample/server.js';
import type { TestDatabases } from './databases.js';
import { createSourceClients } from '../../src/stack/source-clients.js';

export const quietLogger = pino({ level: 'silent' });

/** Waits are scaled to ~1 ms in tests (Retry-After: 1 → 1 ms); pacing is off unless asked. */
export function schoolConfig(server: SchoolApiServer, env: Record<string, string> = {}): Config {
  return loadConfig({
    SCHOOL_API_URL: server.url,
    SCHOOL_API_CLIENT_ID: server.clientId,
    SCHOOL_API_CLIENT_SECRET: server.clientSecret,
    SLEEP_BETWEEN_CALLS: '0',
    API_BACKOFF_SCALE: '0.001',
    SCHOOL_API_PAGE_SIZE: '10',
    SCHOOL_API_MAX_RETRIES: '3',
    ...env,
  });
}

export function githubConfig(server: GithubServer, env: Record<string, string> = {}): Config {
  return loadConfig({
    GITHUB_API_URL: server.url,
    GITHUB_TOKEN: server.token,
    GITHUB_ORG: server.org,
    GITHUB_SKILLS_ORG: server.skillsOrg,
    GITHUB_MAX_RETRIES: '3',
    API_BACKOFF_SCALE: '0.001',
    ...env,
  });
}

export function depsFor(db: TestDatabases, config: Config): ActivityDeps {
  return {
    warehouse: db.warehouse,
    oltp: db.oltp,
    outputDir: '/tmp',
    logger: quietLogger,
    config,
    sources: createSourceClients(config),
  };
}

export function nodeInput(
  nodeId: string,
  params: NodeInput['params'],
  opts: { targetDate?: string; force?: boolean; pipeline?: string } = {},
): NodeInput {
  return { pipeline: opts.pipeline ?? 'test', nodeId, targetDate: opts.targetDate, force: opts.force ?? false, params };
}

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
  return rows[0]!.n;
}

export async function hitsOf(
  pool: Pool,
  jobName: string,
): Promise<
  Record<
    string,
    {
      calls: number;
      cache_hits: number;
      retries: number;
      throttled: number;
      errors: number;
      rate_limit_remaining: number | null;
    }
  >
> {
  const { rows } = await pool.query(
    `SELECT endpoint, sum(calls)::int AS calls, sum(cache_hits)::int AS cache_hits, sum(retries)::int AS retries,
            sum(throttled)::int AS throttled, sum(errors)::int AS errors,
              min(rate_limit_remaining) AS rate_limit_remaining
       FROM api_hits WHERE job_name = $1 GROUP BY endpoint`,
    [jobName],
  );
  return Object.fromEntries(rows.map((r) => [r.endpoint, r]));
}

export async function cursor(pool: Pool, name: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM etl_cursors WHERE name = $1', [name]);
  return rows[0]?.value;
}
