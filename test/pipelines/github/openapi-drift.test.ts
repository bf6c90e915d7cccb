// Drift check: every route the GitHub sample server answers must exist in GitHub's REST
// description as shipped in @octokit/openapi-types, and its answers must carry the fields that
// description names — so the sample cannot keep emulating an endpoint GitHub has retired (as it did
// with /orgs/{org}/copilot/metrics) without a test failing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SAMPLE_GITHUB_LEGACY_ROUTES,
  SAMPLE_GITHUB_ROUTES,
  startGithubServer,
  type GithubServer,
} from '../../../src/pipelines/github/sample/server.js';

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve('@octokit/openapi-types/package.json'));
const dts = readFileSync(path.join(pkgDir, 'types.d.ts'), 'utf8');
const version = (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;

/** The keys of `export interface paths { "…": {…} }`: two-space indented string keys. */
const pathsBlock = dts.slice(dts.indexOf('export interface paths {'), dts.indexOf('export type webhooks'));
const PATHS = new Set([...pathsBlock.matchAll(/^ {2}"(\/[^"]*)": \{/gm)].map((m) => m[1]!));

/** Property names of a components schema (`"name": { a: …; b?: … }`), top level only. */
function schemaFields(name: string): { required: string[]; all: string[] } {
  const quoted = dts.indexOf(`\n    "${name}": {`);
  const start = quoted >= 0 ? quoted : dts.indexOf(`\n    ${name}: {`);
  if (start < 0) throw new Error(`schema ${name} not in @octokit/openapi-types`);
  const body = dts.slice(start, dts.indexOf('\n    };', start));
  const props = [...body.matchAll(/^ {6}(?:readonly )?"?([a-z_][a-z0-9_]*)"?(\??):/gm)];
  return { required: props.filter((p) => !p[2]).map((p) => p[1]!), all: props.map((p) => p[1]!) };
}

let server: GithubServer;
beforeAll(async () => {
  server = await startGithubServer({ users: 2, courses: 1 });
});
afterAll(async () => {
  await server?.close();
});

async function get(p: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(server.url + p, { headers: { authorization: `token ${server.token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe(`the GitHub sample server against @octokit/openapi-types ${version}`, () => {
  it('reads a real REST description (sanity: it has thousands of paths)', () => {
    expect(PATHS.size).toBeGreaterThan(500);
    expect(PATHS.has('/orgs/{org}/repos')).toBe(true);
  });

  it.each(SAMPLE_GITHUB_ROUTES)('%s exists in GitHub’s REST description', (route) => {
    expect(PATHS.has(route)).toBe(true);
  });

  it.each(SAMPLE_GITHUB_LEGACY_ROUTES)(
    '%s is gone from the description: the sample serves it only when asked to emulate an old GHES',
    async (route) => {
      expect(PATHS.has(route)).toBe(false);
      expect((await get(route.replace('{org}', server.org))).status).toBe(404);
    },
  );

  it('the report answers have exactly the fields of copilot-usage-metrics-1-day-report / -28-day-report', async () => {
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const one = await get(`/orgs/${server.org}/copilot/metrics/reports/users-1-day?day=${day}`);
    const schema1 = schemaFields('copilot-usage-metrics-1-day-report');
    expect(one.status).toBe(200);
    expect(Object.keys(one.body as object).sort()).toEqual([...schema1.all].sort());
    const latest = await get(`/enterprises/${server.enterprise}/copilot/metrics/reports/enterprise-28-day/latest`);
    const schema28 = schemaFields('copilot-usage-metrics-28-day-report');
    expect(Object.keys(latest.body as object).sort()).toEqual([...schema28.all].sort());
  });

  it('events, repositories and forks carry their schemas’ required fields and nothing unnamed', async () => {
    const events = (await get(`/users/${server.usernames[0]}/events`)).body as Record<string, unknown>[];
    const repos = (await get(`/orgs/${server.skillsOrg}/repos`)).body as Record<string, unknown>[];
    const forks = (await get(`/repos/${server.skillsOrg}/${server.courseNames[0]}/forks`)).body as Record<
      string,
      unknown
    >[];
    const cases: [string, Record<string, unknown> | undefined, string[]][] = [
      // the sample's events have every required field of `event`
      ['event', events[0], schemaFields('event').required],
      // repositories and forks: a subset of `minimal-repository`'s fields
      ['minimal-repository', repos[0], []],
      ['minimal-repository', forks[0], []],
    ];
    for (const [name, item, required] of cases) {
      expect(item, name).toBeDefined();
      const fields = schemaFields(name).all;
      for (const k of Object.keys(item!)) expect(fields, `${name} has no field ${k}`).toContain(k);
      for (const k of required) expect(Object.keys(item!), `${name} misses ${k}`).toContain(k);
    }
  });
});
