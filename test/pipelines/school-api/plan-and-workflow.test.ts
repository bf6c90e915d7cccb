// The API pipelines end to end: `learnsync plan` predicts the calls the next run makes (checked
// against what the run then records), `status` shows them, and in Temporal (time-skipping server,
// real activities, real Postgres) a school API activity that dies mid-pagination is retried and
// resumes at the first uncommitted page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createGithubActivities } from '../../../src/pipelines/github/activities.js';
import { createSchoolApiActivities } from '../../../src/pipelines/school-api/activities.js';
import { apiHitsSection } from '../../../src/runtime/ledger/api-hits-status.js';
import { command as plan } from '../../../src/cli/commands/plan.js';
import type { CliContext } from '../../../src/cli/types.js';
import type { Config } from '../../../src/config.js';
import { schoolApiIncremental, schoolApiNightly } from '../../../src/pipelines/school-api/definition.js';
import { startGithubServer, type GithubServer } from '../../../src/pipelines/github/sample/server.js';
import { startSchoolApiServer, type SchoolApiServer } from '../../../src/pipelines/school-api/sample/server.js';
import { runPipeline } from '../../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';
import {
  count,
  depsFor,
  githubConfig,
  hitsOf,
  nodeInput,
  quietLogger,
  schoolConfig,
} from '../../support/api-sources.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

let db: TestDatabases;
let school: SchoolApiServer;
let github: GithubServer;

beforeAll(async () => {
  db = await createTestDatabases();
  school = await startSchoolApiServer({
    sizes: { users: 80, projectsUsers: 150, achievementsUsers: 60, coalitionsUsers: 20 },
  });
  github = await startGithubServer({ users: 4, courses: 2, forksPerCourse: 10 });
});
afterAll(async () => {
  await Promise.all([school?.close(), github?.close()]);
  await db?.close();
});

function cliContext(config: Config, out: string[]): CliContext {
  return {
    config,
    logger: quietLogger,
    temporal: () => Promise.reject(new Error('not needed')),
    uiUrl: () => undefined,
    warehouse: async () => db.warehouse,
    oltp: async () => db.oltp,
    print: (line = '') => out.push(line),
    sources: createSourceClients(config),
  };
}

async function planJson(config: Config, args: string[], force = false) {
  const out: string[] = [];
  const code = await plan.run(cliContext(config, out), { positionals: args, values: { json: true, force } });
  expect(code).toBe(0);
  return JSON.parse(out.join('\n')) as {
    lines: { job: string; endpoint: string; calls: number | null; mode: string }[];
    totalCalls: number | null;
    probeCalls: number;
  };
}

describe('learnsync plan', () => {
  it('predicts the calls of the school API incremental run, endpoint by endpoint', async () => {
    const config = schoolConfig(school);
    const act = createSchoolApiActivities(depsFor(db, config));
    // Before any bootstrap a forced nightly plan asks the API for table sizes once per empty table.
    const boot = await planJson(config, ['school-api-nightly'], true);
    expect(boot.lines.find((l) => l.endpoint === '/v2/cursus/{id}/users')).toMatchObject({
      mode: 'full (first read)',
      calls: Math.floor(school.count('users', { cursusId: 21, kind: 'student', alumni: false }) / 10) + 1,
    });
    for (const node of schoolApiNightly.nodes)
      await act.syncSchoolTables(
        nodeInput(node.id, node.input!, { targetDate: '2026-01-10', force: true, pipeline: schoolApiNightly.name }),
      );

    school.touchRandom('projects_users', 35, new Date(Date.now() - 2000));
    school.touchRandom('users', 12, new Date(Date.now() - 2000));
    const p = await planJson(config, ['school-api-incremental']);
    expect(p.probeCalls).toBe(1 + 3); // a token and one X-Total probe per table
    expect(p.lines.every((l) => l.calls !== null)).toBe(true);

    const node = schoolApiIncremental.nodes[0]!;
    await act.syncSchoolTables(nodeInput(node.id, node.input!, { pipeline: schoolApiIncremental.name }));
    const hits = await hitsOf(db.warehouse, node.id);
    for (const line of p.lines)
      expect({ endpoint: line.endpoint, calls: hits[line.endpoint]?.calls }).toEqual({
        endpoint: line.endpoint,
        calls: line.calls,
      });
    expect(p.totalCalls).toBe(Object.values(hits).reduce((s, h) => s + h.calls, 0));

    // A nightly date that already succeeded costs nothing unless forced.
    const out: string[] = [];
    await plan.run(cliContext(config, out), {
      positionals: ['school-api-nightly'],
      values: { json: true, date: '2026-01-10' },
    });
    const done = JSON.parse(out.join('\n')) as { totalCalls: number; lines: { mode: string }[] };
    expect(done.totalCalls).toBe(0);
    expect(done.lines.every((l) => l.mode === 'skipped')).toBe(true);
  });

  it('predicts GitHub calls from the warehouse alone, and status shows the hits', async () => {
    const config = githubConfig(github, { GITHUB_TRACKED_USERS: github.usernames.join(',') });
    const act = createGithubActivities(depsFor(db, config));
    await act.syncGithubSkills(nodeInput('github_skills', {}, { targetDate: '2026-01-10' }));
    await act.syncGithubUserEvents(nodeInput('github_user_events_incremental', {}));
    const before = github.stats.total;
    const p = await planJson(config, ['github-incremental']);
    expect(github.stats.total).toBe(before); // planning spent no GitHub call
    expect(p.lines).toEqual([expect.objectContaining({ endpoint: '/users/{username}/events', calls: 4 })]);
    await act.syncGithubUserEvents(nodeInput('github_user_events_incremental', {}));
    expect(github.stats.total - before).toBe(4);

    const out: string[] = [];
    const lines = await apiHitsSection.render(cliContext(config, out));
    expect(
      lines.some(
        (l) =>
          l.startsWith('github_user_events_incremental') &&
          l.includes('/users/{username}/events') &&
          /\s4\s+4\s/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('school_active_incremental'))).toBe(true);
  });
});

describe('school API in Temporal', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it(
    'bootstraps through the nightly pipeline, ' +
      'then a failed attempt of the incremental node is retried and resumes mid-pagination',
    async () => {
      await db.warehouse.query(
        `TRUNCATE school.users, school.projects_users, school.achievements_users, ` +
          `etl_cursors, api_extract_progress, etl_job_runs, api_hits`,
      );
      const config = schoolConfig(school);
      const activities = createSchoolApiActivities(depsFor(db, config));
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'api-sources',
        activities,
        ...bundledWorkerOptions(),
      });
      const node = schoolApiIncremental.nodes[0]!;
      const quickRetry = {
        ...schoolApiIncremental,
        nodes: [{ ...node, retry: { initialIntervalSeconds: 1, maximumAttempts: 3 } }],
      };

      await worker.runUntil(async () => {
        const boot = await env.client.workflow.execute(runPipeline, {
          taskQueue: 'api-sources',
          workflowId: `school-boot-${Date.now()}`,
          args: [{ pipeline: 'school-api-nightly', targetDate: '2026-01-12', force: true }],
        });
        expect(boot.status).toBe('SUCCESS');
        expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
          school.count('projects_users', { cursusId: 21 }),
        );

        school.touchRandom('projects_users', 60, new Date(Date.now() - 1000));
        school.stats.reset();
        school.inject({ path: '/v2/projects_users', page: 3, times: 4, respond: { status: 500 } });
        const inc = await env.client.workflow.execute(runPipeline, {
          taskQueue: 'api-sources',
          workflowId: `school-inc-${Date.now()}`,
          args: [{ pipeline: quickRetry.name, definition: quickRetry }],
        });
        expect(inc.status).toBe('SUCCESS');
      });
      const runs = await db.warehouse.query(
        `SELECT status, attempt FROM etl_job_runs WHERE job_name = $1 ORDER BY started_at`,
        [node.id],
      );
      expect(runs.rows).toEqual([
        { status: 'FAILED', attempt: 1 },
        { status: 'SUCCESS', attempt: 2 },
      ]);
      // users was complete before the failure: none of its pages read again. projects_users pages 1–2 were committed:
      // read once.
      const userPages = school.stats.log.filter((e) => e.path === '/v2/cursus/21/users').map((e) => e.page);
      expect(userPages.length).toBeGreaterThan(0);
      expect(new Set(userPages).size).toBe(userPages.length);
      expect(school.stats.count('/v2/projects_users', 1)).toBe(1);
      expect(school.stats.count('/v2/projects_users', 2)).toBe(1);
      expect(school.stats.count('/v2/projects_users', 3)).toBe(5);
      expect(await count(db.warehouse, 'SELECT count(*) FROM school.projects_users')).toBe(
        school.count('projects_users', { cursusId: 21 }),
      );
    },
  );
});
