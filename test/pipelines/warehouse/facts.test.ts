// Fact jobs as activities (MockActivityEnvironment) over a generated source with its dimension
// history replayed: reconciliation and rejects, skip and --force reruns with byte-identical
// tables, late arrivals joined as of event time, and the row-drop alert.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarehouseActivities } from '../../../src/pipelines/warehouse/activities.js';
import type { NodeInput, NodeResult } from '../../../src/pipelines/types.js';
import { warehouseFacts } from '../../../src/pipelines/warehouse/definition.js';
import { applyOltpDay } from '../../../src/pipelines/warehouse/sample/generator.js';
import { seedWarehouseDemo } from '../../../src/pipelines/warehouse/sample/demo-seed.js';
import { standingRowDropAlerts } from '../../../src/runtime/ledger/row-drop-alerts.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { activityDeps, allFactChecksums, FACT_TABLES, ledger, type WarehouseActivities } from './helpers.js';

const SCALE = { tenants: 3, learners: 1000, eventsPerDay: 20_000 };
const FROM = '2026-02-01';
const TO = '2026-02-04';
const D = '2026-02-03';

let dbs: TestDatabases;
let acts: WarehouseActivities;
beforeAll(async () => {
  dbs = await createTestDatabases();
  await seedWarehouseDemo({ oltp: dbs.oltp, warehouse: dbs.warehouse, from: FROM, to: TO, scale: SCALE });
  acts = createWarehouseActivities(activityDeps(dbs));
});
afterAll(async () => {
  await dbs?.close();
});

const run = (
  activity: keyof WarehouseActivities,
  nodeId: string,
  targetDate: string,
  force = false,
  a = acts,
): Promise<NodeResult> =>
  new MockActivityEnvironment().run(a[activity], {
    pipeline: 'warehouse-facts',
    nodeId,
    targetDate,
    force,
    params: {},
  } satisfies NodeInput);
const buildAll = async (date: string, force = false) => {
  const out: Record<string, NodeResult> = {};
  for (const n of warehouseFacts.nodes)
    out[n.id] = await run(n.activity as keyof WarehouseActivities, n.id, date, force);
  return out;
};
const count = async (sql: string, params: unknown[] = []) => Number((await dbs.warehouse.query(sql, params)).rows[0].n);

describe('fact builds', () => {
  it('build every fact for a date: read = loaded + rejected, in the ledger and in the tables', async () => {
    // A handful of rows bad in each way the issue names, on top of the generator's own share.
    const T = (await dbs.oltp.query('SELECT tenant_id FROM platform.tenants LIMIT 1')).rows[0].tenant_id;
    const L = (await dbs.oltp.query('SELECT learner_id FROM platform.learners WHERE is_active LIMIT 1')).rows[0]
      .learner_id;
    await dbs.oltp.query(
      `INSERT INTO platform.sessions (session_id, tenant_id, learner_id, subject_id, device, started_at, ended_at)
        VALUES
         ('dddddddd-0000-0000-0000-000000000001', $1, NULL, 'MATH', 'web', '${D}T10:00:00Z', '${D}T10:30:00Z'),
         ('dddddddd-0000-0000-0000-000000000002', $1, 'eeeeeeee-0000-0000-0000-000000000001', 'MATH', 'web',
         '${D}T11:00:00Z', '${D}T11:30:00Z'),
         ('dddddddd-0000-0000-0000-000000000003', $1, $2, 'MATH', 'web', '${D}T12:00:00Z', '${D}T09:00:00Z')`,
      [T, L],
    );
    await dbs.oltp.query(
      `INSERT INTO platform.homework_submissions (submission_id, tenant_id, learner_id, subject_id, teacher_id,
       assigned_at, due_at, submitted_at, score, max_score, status)
       VALUES ('dddddddd-0000-0000-0000-000000000004', $1, $2, 'MATH', NULL, '${D}T08:00:00Z', '${D}T20:00:00Z',
         '${D}T09:00:00Z', 140, 100, 'on_time')`,
      [T, L],
    );

    const results = await buildAll(D);
    for (const [job, r] of Object.entries(results)) {
      expect(r.skipped, job).toBeFalsy();
      expect(r.rows, job).toBe((r.inserted ?? 0) + (r.rejected ?? 0));
      const [row] = await ledger(dbs.warehouse, job, D);
      expect(row, job).toMatchObject({
        status: 'SUCCESS',
        rows_processed: r.rows,
        rows_inserted: r.inserted,
        rows_rejected: r.rejected,
      });
      expect(
        await count('SELECT count(*) AS n FROM etl_rejects WHERE job_name = $1 AND target_date = $2', [job, D]),
        job,
      ).toBe(r.rejected);
    }
    for (const [i, t] of FACT_TABLES.entries()) {
      const job = warehouseFacts.nodes[i]!.id;
      expect(await count(`SELECT count(*) AS n FROM ${t} WHERE date_key = 20260203`), t).toBe(results[job]!.inserted);
    }
    // The generator's small share of bad rows shows up in every event fact.
    for (const job of ['build_fact_sessions', 'build_fact_focus_events', 'build_fact_learning_progress'])
      expect(results[job]!.rejected, job).toBeGreaterThan(0);
    expect(results.build_fact_sessions!.rejected! / results.build_fact_sessions!.rows).toBeLessThan(0.02);

    const mine = await dbs.warehouse.query<{ id: string; reason: string }>(
      `SELECT coalesce(raw->>'session_id', raw->>'submission_id') AS id, reason FROM etl_rejects
        WHERE target_date = $1 AND coalesce(raw->>'session_id', raw->>'submission_id') LIKE 'dddddddd%' ORDER BY 1`,
      [D],
    );
    expect(mine.rows.map((r) => [r.id.slice(-1), r.reason])).toEqual([
      ['1', 'missing learner_id'],
      ['2', 'unknown learner_id'],
      ['3', 'session ended before it started'],
      ['4', 'score outside 0..max_score'],
    ]);
    const raw = await dbs.warehouse.query(
      `SELECT raw FROM etl_rejects WHERE raw->>'submission_id' = 'dddddddd-0000-0000-0000-000000000004'`,
    );
    expect(raw.rows[0].raw).toMatchObject({ score: 140, max_score: 100, status: 'on_time' });
  });

  it(
    'every dimension key points at the version valid at ' + 'event time (history is used, not just current rows)',
    async () => {
      const { rows } = await dbs.warehouse.query<{ wrong: number; historic: number }>(
        `SELECT count(*) FILTER (WHERE NOT (f.occurred_at >= l.effective_from AND (l.effective_to IS NULL
        OR f.occurred_at < l.effective_to)))::int AS wrong,
              count(*) FILTER (WHERE NOT l.is_current)::int AS historic
         FROM (SELECT learner_key, started_at AS occurred_at FROM dw.fact_sessions
               UNION ALL SELECT learner_key, occurred_at FROM dw.fact_focus_events
               UNION ALL SELECT learner_key, submitted_at FROM dw.fact_homework_events
               UNION ALL SELECT learner_key, occurred_at FROM dw.fact_recommendation_events) f
         JOIN dw.dim_learner l USING (learner_key)`,
      );
      expect(rows[0]!.wrong).toBe(0);
      expect(rows[0]!.historic).toBeGreaterThan(0);
    },
  );

  it(
    'a rerun without --force is skipped; ' + '--force rebuilds byte-identical tables; other dates are untouched',
    async () => {
      await buildAll('2026-02-02');
      const before = await allFactChecksums(dbs.warehouse);
      const skipped = await buildAll(D);
      expect(Object.values(skipped).every((r) => r.skipped)).toBe(true);
      expect((await ledger(dbs.warehouse, 'build_fact_sessions', D)).map((r) => r.status)).toEqual([
        'SUCCESS',
        'SKIPPED',
      ]);

      const forced = await buildAll(D, true);
      expect(forced.build_fact_sessions).toMatchObject({ deleted: forced.build_fact_sessions!.inserted });
      expect(await allFactChecksums(dbs.warehouse)).toEqual(before);
      // Rejects are replaced too, not appended.
      expect(
        await count(
          `SELECT count(*) AS n FROM etl_rejects WHERE job_name = 'build_fact_sessions' AND target_date = $1`,
          [D],
        ),
      ).toBe(forced.build_fact_sessions!.rejected);
      expect((await ledger(dbs.warehouse, 'build_fact_sessions', D)).map((r) => r.status)).toEqual([
        'SUCCESS',
        'SKIPPED',
        'SUCCESS',
      ]);
    },
  );

  it(
    'late events arrive the next day: a forced rebuild adds them, ' + 'flagged, joined as of their event time',
    async () => {
      const before = await run('buildFactFocusEvents', 'build_fact_focus_events', TO, true);
      const pending = await dbs.oltp.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM oltp_sim.pending_session_events
        WHERE event_type LIKE 'focus%' AND occurred_at >= '${TO}T00:00:00Z'
          AND occurred_at < '${TO}T00:00:00Z'::timestamptz + interval '1 day'
          AND received_at < '${TO}T00:00:00Z'::timestamptz + interval '2 days'`,
      );
      expect(pending.rows[0]!.n).toBeGreaterThan(0);
      await applyOltpDay(dbs.oltp, SCALE, '2026-02-05'); // they arrive (and the day's own activity)
      const after = await run('buildFactFocusEvents', 'build_fact_focus_events', TO, true);
      expect(after.rows).toBe(before.rows + pending.rows[0]!.n);
      expect(
        await count(`SELECT count(*) AS n FROM dw.fact_focus_events WHERE date_key = 20260204 AND is_late_arrival`),
      ).toBeGreaterThan(0);
      expect(
        await count(`SELECT count(*) AS n FROM dw.fact_focus_events f JOIN dw.dim_learner l USING (learner_key)
                    WHERE f.date_key = 20260204 AND NOT (f.occurred_at >= l.effective_from AND (l.effective_to IS NULL
                      OR f.occurred_at < l.effective_to))`),
      ).toBe(0);
    },
  );

  it(
    'a day with far fewer rows than its 7-day median is flagged in the ledger and in status; ' +
      'the threshold is configurable',
    async () => {
      for (const d of ['2026-02-01', '2026-02-04']) await run('buildFactSessions', 'build_fact_sessions', d);
      await applyOltpDay(dbs.oltp, SCALE, '2026-02-06', { eventsPerDay: 2_000 }); // a tenth of the usual day
      const r = await run('buildFactSessions', 'build_fact_sessions', '2026-02-06');
      expect(r.detail?.alert).toMatch(/rows processed 100 is 90% below the 7-day median 1,00\d \(alert above 50%\)/);
      expect((await ledger(dbs.warehouse, 'build_fact_sessions', '2026-02-06'))[0]!.alert).toBe(r.detail?.alert);
      const standing = await standingRowDropAlerts(dbs.warehouse);
      expect(standing.map((a) => [a.job_name, a.target_date])).toEqual([['build_fact_sessions', '2026-02-06']]);

      const lenient = createWarehouseActivities(activityDeps(dbs, { LEARNSYNC_ROWS_DROP_ALERT: '0.95' }));
      const again = await run('buildFactSessions', 'build_fact_sessions', '2026-02-06', true, lenient);
      expect(again.detail?.alert).toBeUndefined();
      expect(await standingRowDropAlerts(dbs.warehouse)).toEqual([]);
    },
  );
});
