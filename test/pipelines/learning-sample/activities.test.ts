// Activity tier: the learning-sample activities alone (MockActivityEnvironment), real Postgres.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities/index.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logging.js';
import type { NodeActivity, NodeInput, NodeResult } from '../../../src/pipelines/types.js';
import { seedSampleSource } from '../../../src/pipelines/learning-sample/sample/source-data.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';

let db: TestDatabases;
let acts: ReturnType<typeof createActivities>;
let outputDir: string;
const env = new MockActivityEnvironment();
const call = (fn: NodeActivity, i: NodeInput): Promise<NodeResult> => env.run(fn, i);
const DATE = '2026-02-10';
const input = (nodeId: string, extra: Partial<NodeInput> = {}): NodeInput => ({
  pipeline: 'learning-sample',
  nodeId,
  targetDate: DATE,
  force: false,
  params: {},
  ...extra,
});

beforeAll(async () => {
  db = await createTestDatabases();
  outputDir = mkdtempSync(path.join(tmpdir(), 'ls-out-'));
  acts = createActivities({
    warehouse: db.warehouse,
    oltp: db.oltp,
    outputDir,
    logger: createLogger({ level: 'silent' }),
    config: loadConfig({}),
    sources: createSourceClients(loadConfig({})),
  });
  await seedSampleSource(db.oltp, { from: '2026-02-09', to: '2026-02-11', examsPerDay: 400, users: 300 });
});
afterAll(async () => {
  await db?.close();
});

async function runDay(force = false) {
  const exams = await call(acts.extractSampleExams, input('extract_exam_results', { force }));
  const emails = await call(acts.extractSampleUserEmails, input('extract_user_emails', { force }));
  const resolved = await call(acts.resolveSampleIdentities, input('resolve_identities', { force }));
  const stats = await call(acts.aggregateSampleDaily, input('aggregate_daily_exam_stats', { force }));
  const file = await call(acts.loadSampleDashboard, input('load_dashboard', { force }));
  return { exams, emails, resolved, stats, file };
}

const factsChecksum = async () =>
  (
    await db.warehouse.query(
      `SELECT md5(string_agg(concat_ws('|', result_id, email, user_id, resolved_by, exam_code, score, passed, taken_at),
         ',' ORDER BY result_id)) AS sum
         FROM mart.sample_exam_facts WHERE target_date = $1`,
      [DATE],
    )
  ).rows[0].sum as string;

describe('learning-sample activities', () => {
  it('moves one day end to end and reconciles read = loaded + rejected', async () => {
    const r = await runDay();
    const source = (
      await db.oltp.query(`SELECT count(*)::int AS n FROM sample_source.exam_results WHERE taken_at::date = $1`, [DATE])
    ).rows[0].n;
    expect(r.exams.rows).toBe(source);
    expect(r.exams.rows).toBe(400);
    expect(r.resolved.rows).toBe(400);
    expect(r.resolved.inserted! + r.resolved.rejected!).toBe(400);
    expect(r.resolved.rejected).toBeGreaterThan(0);
    const rejects = await db.warehouse.query(
      `SELECT reason, count(*)::int AS n FROM etl_rejects WHERE target_date = $1 GROUP BY reason ORDER BY reason`,
      [DATE],
    );
    expect(rejects.rows.reduce((s, x) => s + x.n, 0)).toBe(r.resolved.rejected);
    for (const row of rejects.rows) expect(['missing email', 'score out of range 0..100']).toContain(row.reason);
    const ledger = await db.warehouse.query(
      `SELECT rows_processed, rows_inserted, rows_rejected FROM etl_job_runs WHERE job_name = 'resolve_identities'
        AND status = 'SUCCESS'`,
    );
    expect(ledger.rows).toEqual([
      { rows_processed: 400, rows_inserted: r.resolved.inserted, rows_rejected: r.resolved.rejected },
    ]);
  });

  it('resolves identities by priority: verified email, then unverified, then the exam record, else 0', async () => {
    const { rows } = await db.warehouse.query(
      `SELECT resolved_by, count(*)::int AS n, bool_and(user_id = 0) AS all_zero, bool_and(user_id <> 0) AS none_zero
         FROM mart.sample_exam_facts WHERE target_date = $1 GROUP BY resolved_by`,
      [DATE],
    );
    const by = Object.fromEntries(rows.map((r) => [r.resolved_by, r]));
    expect(Object.keys(by).sort()).toEqual(['exam_record', 'unresolved', 'unverified_email', 'verified_email']);
    expect(by.unresolved.all_zero).toBe(true);
    expect(by.verified_email.none_zero).toBe(true);
    // A claimed email (learner97@… also listed, unverified, for user 98) resolves to its verified owner.
    const conflict = await db.warehouse.query(
      `SELECT DISTINCT user_id FROM mart.sample_exam_facts WHERE email = 'learner97@example.org'
        AND resolved_by = 'verified_email'`,
    );
    for (const r of conflict.rows) expect(Number(r.user_id)).toBe(97);
    // Stray case and spaces were normalised before matching.
    const messy = await db.warehouse.query(
      `SELECT count(*)::int AS n FROM staging.sample_exam_results WHERE target_date = $1
        AND email <> lower(trim(email))`,
      [DATE],
    );
    expect(messy.rows[0].n).toBeGreaterThan(0);
    const unnormalised = await db.warehouse.query(
      `SELECT count(*)::int AS n FROM mart.sample_exam_facts WHERE email <> lower(trim(email))`,
    );
    expect(unnormalised.rows[0].n).toBe(0);
  });

  it('aggregates per exam and writes the dashboard file atomically', async () => {
    const stats = await db.warehouse.query(
      `SELECT sum(attempts)::int AS attempts, count(*)::int AS exams FROM mart.sample_daily_exam_stats
        WHERE target_date = $1`,
      [DATE],
    );
    const facts = await db.warehouse.query(
      `SELECT count(*)::int AS n FROM mart.sample_exam_facts WHERE target_date = $1`,
      [DATE],
    );
    expect(stats.rows[0].attempts).toBe(facts.rows[0].n);
    const file = JSON.parse(
      readFileSync(path.join(outputDir, 'dashboard', 'daily_exam_stats', `${DATE}.json`), 'utf8'),
    );
    expect(file.date).toBe(DATE);
    expect(file.exams).toHaveLength(stats.rows[0].exams);
    expect(file.exams.reduce((s: number, e: { attempts: number }) => s + e.attempts, 0)).toBe(facts.rows[0].n);
  });

  it('skips a done day, and a forced rerun rebuilds byte-identical facts', async () => {
    const before = await factsChecksum();
    const skipped = await runDay();
    expect(Object.values(skipped).every((r) => r.skipped)).toBe(true);
    const forced = await runDay(true);
    expect(forced.resolved.deleted).toBe(forced.resolved.inserted);
    expect(await factsChecksum()).toBe(before);
    const dupes = await db.warehouse.query(`SELECT count(*)::int AS n FROM etl_rejects WHERE target_date = $1`, [DATE]);
    expect(dupes.rows[0].n).toBe(forced.resolved.rejected);
  });

  it(
    'incremental sync: the cursor follows committed rows ' + 'and rows sharing the boundary timestamp are not lost',
    async () => {
      const first = await call(acts.syncSampleExamsIncremental, input('sync_exam_results', { targetDate: undefined }));
      expect(first.rows).toBe(1200);
      const cursor1 = (
        await db.warehouse.query(`SELECT value FROM etl_cursors WHERE name = 'sample_source.exam_results.updated_at'`)
      ).rows[0].value;
      const maxSource = (await db.oltp.query(`SELECT max(updated_at) AS m FROM sample_source.exam_results`)).rows[0]
        .m as Date;
      expect(new Date(cursor1).getTime()).toBe(maxSource.getTime());
      // A late row lands with exactly the cursor's timestamp, and one existing row changes.
      await db.oltp.query(
        `INSERT INTO sample_source.exam_results (id, email, exam_code, score, passed, source_user_id, taken_at,
       updated_at)
       VALUES (999999999, 'late@example.org', 'GH-100', 88, true, NULL, $1, $1)`,
        [maxSource],
      );
      await db.oltp.query(
        `UPDATE sample_source.exam_results SET score = 12, updated_at = $1::timestamptz + interval '1 minute'
        WHERE id = (SELECT min(id) FROM sample_source.exam_results WHERE id <> 999999999)`,
        [maxSource],
      );
      const second = await call(acts.syncSampleExamsIncremental, input('sync_exam_results', { targetDate: undefined }));
      expect(second.inserted).toBe(1);
      expect(second.updated).toBe(1);
      const live = await db.warehouse.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE result_id = 999999999)::int AS late
        FROM mart.sample_exam_results_live`,
      );
      expect(live.rows[0]).toEqual({ n: 1201, late: 1 });
      const third = await call(acts.syncSampleExamsIncremental, input('sync_exam_results', { targetDate: undefined }));
      expect(third.inserted ?? 0).toBe(0);
      expect(third.updated ?? 0).toBe(0);
    },
  );
});
