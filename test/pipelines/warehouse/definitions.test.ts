// The warehouse pipelines as data (DAGs, job names, schedules) and the OLTP generator's
// promises: deterministic, idempotent, with a small share of bad rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../../src/runtime/deps.js';
import { createWarehouseActivities } from '../../../src/pipelines/warehouse/activities.js';
import { loadConfig } from '../../../src/config.js';
import { getPipeline } from '../../../src/pipelines/registry.js';
import { SCHEDULES } from '../../../src/pipelines/schedules.js';
import { WAREHOUSE_PIPELINES, warehouseNightly } from '../../../src/pipelines/warehouse/definition.js';
import { seedWarehouseDemo } from '../../../src/pipelines/warehouse/sample/demo-seed.js';
import { OLTP_TABLES } from '../../../src/pipelines/warehouse/sample/schema.js';
import { planDag } from '../../../src/workflows/plan.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

const SEED_JOBS = [
  'sync_dim_tenant',
  'sync_dim_learner',
  'sync_dim_user',
  'sync_dim_subject',
  'sync_dim_skill',
  'build_fact_sessions',
  'build_fact_focus_events',
  'build_fact_homework_events',
  'build_fact_learning_progress',
  'build_fact_recommendation_events',
];

describe('warehouse pipeline definitions', () => {
  it('are registered, valid DAGs whose node ids are the seed’s job names and whose activities exist', () => {
    const activities = Object.keys(createWarehouseActivities({ config: loadConfig({}) } as ActivityDeps));
    for (const def of WAREHOUSE_PIPELINES) {
      expect(getPipeline(def.name)).toBe(def);
      expect(() => planDag(def)).not.toThrow();
      for (const n of def.nodes) expect(activities, n.id).toContain(n.activity);
    }
    expect(warehouseNightly.nodes.map((n) => n.id).sort()).toEqual([...SEED_JOBS].sort());
    expect(getPipeline('warehouse-dimensions')!.kind).toBe('incremental');
    expect(getPipeline('warehouse-facts')!.kind).toBe('nightly');
    // Facts wait for the dimensions their as-of joins read; dimensions wait for nothing.
    for (const n of warehouseNightly.nodes) {
      if (n.id.startsWith('sync_dim_')) expect(n.dependsOn ?? []).toEqual([]);
      else expect(n.dependsOn).toEqual(expect.arrayContaining(['sync_dim_tenant', 'sync_dim_learner']));
    }
  });

  it('are scheduled: dimensions hourly, every fact job daily at 02:00 UTC', () => {
    expect(SCHEDULES.find((s) => s.id === 'learnsync-warehouse-dimensions')).toMatchObject({
      pipeline: 'warehouse-dimensions',
      every: '1h',
    });
    // The facts run at 02:00 either on their own or inside a composed nightly pipeline.
    const at2 = SCHEDULES.filter((s) => s.cron?.includes('0 2 * * *')).flatMap(
      (s) => getPipeline(s.pipeline)?.nodes.map((n) => n.id) ?? [],
    );
    expect(at2).toEqual(expect.arrayContaining(SEED_JOBS.filter((j) => j.startsWith('build_fact_'))));
  });
});

describe('OLTP generator', () => {
  let a: TestDatabases;
  let b: TestDatabases;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabases(), createTestDatabases()]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const scale = { tenants: 4, learners: 2000, eventsPerDay: 10_000 };
  const seed = (dbs: TestDatabases) =>
    seedWarehouseDemo({ oltp: dbs.oltp, warehouse: dbs.warehouse, from: '2026-05-01', to: '2026-05-03', scale });
  async function checksums(dbs: TestDatabases) {
    const out: Record<string, string> = {};
    for (const t of [...OLTP_TABLES.map((t) => `platform.${t}`), 'oltp_sim.pending_session_events']) {
      const { rows } = await dbs.oltp.query(
        `SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY t::text)) AS c FROM ${t} t`,
      );
      out[t] = rows[0].c;
    }
    return out;
  }
  const dimVersions = async (dbs: TestDatabases) =>
    (
      await dbs.warehouse.query(
        `SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) AS c
          FROM (SELECT learner_id, grade_level, effective_from, effective_to FROM dw.dim_learner) d`,
      )
    ).rows[0].c;

  it('is deterministic and idempotent: two databases, and a rerun, hold the same rows', async () => {
    const summary = await seed(a);
    expect(summary).toMatch(/3 tenants|4 tenants/);
    expect(summary).toMatch(/dimension history replayed/);
    await seed(b);
    const first = await checksums(a);
    expect(await checksums(b)).toEqual(first);
    const versions = await dimVersions(a);
    expect(await dimVersions(b)).toBe(versions);

    // Rerun over a warehouse that already has dimensions: the source is rewritten identically, history is left alone.
    expect(await seed(a)).not.toMatch(/replayed/);
    expect(await checksums(a)).toEqual(first);
    expect(await dimVersions(a)).toBe(versions);
  });

  it('produces changes over time and a small share of bad rows of each kind', async () => {
    const q = async (sql: string) => Number((await a.oltp.query(sql)).rows[0].n);
    const learners = await q('SELECT count(*) AS n FROM platform.learners');
    expect(await q(`SELECT count(*) AS n FROM platform.learners WHERE updated_at >= '2026-05-01'`)).toBeGreaterThan(0);
    expect(await q(`SELECT count(*) AS n FROM platform.learners WHERE created_at >= '2026-05-01'`)).toBeGreaterThan(0);
    expect(learners).toBeLessThan(2000 + 3 * 4 + 1); // deletions offset some enrolments
    const versions = await a.warehouse.query(
      `SELECT count(*) FILTER (WHERE NOT is_current AND effective_to IS NOT NULL)::int AS closed,
              count(DISTINCT learner_id) FILTER (WHERE NOT is_current)::int AS changed FROM dw.dim_learner`,
    );
    expect(versions.rows[0].closed).toBeGreaterThan(0);
    expect(await q(`SELECT count(*) AS n FROM oltp_sim.pending_session_events`)).toBeGreaterThan(0);

    const share = async (bad: string, table: string) =>
      Number(
        (await a.oltp.query(`SELECT (count(*) FILTER (WHERE ${bad}))::float8 / count(*) AS n FROM ${table}`)).rows[0].n,
      );
    for (const [bad, table] of [
      ['learner_id IS NULL', 'platform.sessions'],
      ['ended_at < started_at', 'platform.sessions'],
      [`event_type = 'focus_lost' AND (duration_seconds < 0 OR duration_seconds > 86400)`, 'platform.session_events'],
      ['score > max_score', 'platform.homework_submissions'],
      ['submitted_at < assigned_at', 'platform.homework_submissions'],
      ['mastery_level > 1', 'platform.skill_mastery_daily'],
      ['confidence > 1', 'platform.recommendation_events'],
    ] as const) {
      const s = await share(bad, table);
      expect(s, `${table}: ${bad}`).toBeGreaterThan(0);
      expect(s, `${table}: ${bad}`).toBeLessThan(0.01);
    }
  });
});
