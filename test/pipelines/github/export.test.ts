// The five GitHub CSV files of seed 001 after a sync against the sample server: every table row
// in its file, formula cells neutralised, files 0640, replaced atomically, recorded in
// etl_output_files and listed in sync_status.json.
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGithubActivities } from '../../../src/pipelines/github/activities.js';
import { startGithubServer, type GithubServer } from '../../../src/pipelines/github/sample/server.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { count, depsFor, githubConfig, nodeInput } from '../../support/api-sources.js';

const FILES = [
  'copilot_daily.csv',
  'copilot_languages.csv',
  'github_activity.csv',
  'skills_courses.csv',
  'skills_enrollments.csv',
];
const DATE = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

let db: TestDatabases;
let server: GithubServer;
let out: string;

beforeAll(async () => {
  db = await createTestDatabases();
  server = await startGithubServer({ users: 4, courses: 2, forksPerCourse: 10 });
  out = await mkdtemp(path.join(tmpdir(), 'gh-export-'));
});
afterAll(async () => {
  await server?.close();
  await db?.close();
  await rm(out, { recursive: true, force: true });
});

const csvLines = async (f: string) =>
  (await readFile(path.join(out, 'learning-roi', f), 'utf8')).split('\r\n').filter((l) => l !== '');

describe('GitHub CSV outputs', () => {
  it('writes the five files beside the learning-ROI files, a line per row, 0640, in sync_status.json', async () => {
    const act = createGithubActivities({
      ...depsFor(db, githubConfig(server, { GITHUB_TRACKED_USERS: server.usernames.join(',') })),
      outputDir: out,
    });
    const input = (id: string) => nodeInput(id, {}, { targetDate: DATE, pipeline: 'github-nightly' });
    await act.syncGithubCopilotMetrics(input('github_copilot_metrics'));
    await act.syncGithubSkills(input('github_skills'));
    await act.syncGithubUserEvents(input('github_user_events'));
    // A hostile course description and an event type that would be a formula in a spreadsheet.
    await db.warehouse.query(
      `UPDATE github.skills_courses SET description = '=HYPERLINK("http://evil","x")' WHERE name = $1`,
      [server.courseNames[0]],
    );
    await db.warehouse.query(
      `UPDATE github.activity SET type = '@SUM(1)' WHERE event_id = (SELECT min(event_id) FROM github.activity)`,
    );
    const r = await act.exportGithubFiles(input('github_export_files'));

    const dir = path.join(out, 'learning-roi');
    expect((await readdir(dir)).filter((f) => f.endsWith('.csv')).sort()).toEqual(FILES);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const tables: Record<string, string> = {
      'copilot_daily.csv': 'github.copilot_daily',
      'copilot_languages.csv': 'github.copilot_languages',
      'github_activity.csv': 'github.activity',
      'skills_courses.csv': 'github.skills_courses',
      'skills_enrollments.csv': 'github.skills_enrollments',
    };
    let total = 0;
    for (const f of FILES) {
      const rows = await count(db.warehouse, `SELECT count(*) FROM ${tables[f]}`);
      expect(rows, f).toBeGreaterThan(0);
      expect((await csvLines(f)).length - 1, f).toBe(rows);
      expect((await stat(path.join(dir, f))).mode & 0o777, f).toBe(0o640);
      total += rows;
    }
    expect(r.rows).toBe(total);
    expect((await csvLines('copilot_daily.csv'))[0]).toBe(
      'org,date,source,active_users,weekly_active_users,monthly_active_users,engaged_users,code_suggestions,' +
        'code_acceptances,acceptance_rate,lines_suggested,lines_accepted,lines_deleted,chat_interactions',
    );
    expect((await csvLines('copilot_daily.csv')).filter((l) => l.includes(`,${DATE},`))).toHaveLength(1);
    const courses = await readFile(path.join(dir, 'skills_courses.csv'), 'utf8');
    expect(courses).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(courses).not.toMatch(/,=HYPERLINK/);
    expect(await readFile(path.join(dir, 'github_activity.csv'), 'utf8')).toContain(",'@SUM(1),");

    const status = JSON.parse(await readFile(path.join(dir, 'sync_status.json'), 'utf8')) as {
      files: Record<string, { rows: number; mode: string; job: string }>;
    };
    expect(Object.keys(status.files).sort()).toEqual(FILES);
    expect(status.files['github_activity.csv']).toMatchObject({
      rows: await count(db.warehouse, 'SELECT count(*) FROM github.activity'),
      mode: '0640',
      job: 'github_export_files',
    });
  });
});
