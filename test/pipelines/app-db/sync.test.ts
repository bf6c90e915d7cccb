import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTableSchema } from '../../../src/connectors/bigquery/client.js';
import { stagingTableName } from '../../../src/pipelines/app-db/bigquery-sync.js';
import { APP_DB_TABLES } from '../../../src/pipelines/app-db/definition.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import type { BigQueryEmulatorHandle } from '../../../src/stack/bigquery-emulator.js';
import {
  appDbFixture,
  bqCount,
  bqRows,
  bqSnapshot,
  emulatorAvailable,
  HASH_KEY,
  startEmulator,
  type AppDbFixture,
} from './support.js';

describe.skipIf(!emulatorAvailable)('app-db → BigQuery sync (bqemulator)', () => {
  let db: TestDatabases;
  let emulator: BigQueryEmulatorHandle;
  let f: AppDbFixture;

  beforeAll(async () => {
    [db, emulator] = await Promise.all([createTestDatabases(), startEmulator()]);
    f = await appDbFixture(db, emulator);
  });
  afterAll(async () => {
    f?.close();
    await emulator?.stop();
    await db?.close();
  });

  const sourceCount = (table: string) =>
    (f.app().prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('first incremental run creates every table and copies every row', async () => {
    const results = await f.syncAll();
    for (const t of APP_DB_TABLES) {
      const r = results.get(t.name);
      expect(r, t.name).not.toBeInstanceOf(Error);
      expect((await bqCount(f.target, t.name)).n, t.name).toBe(sourceCount(t.name));
    }
    const chat = results.get('chat_history') as { detail: Record<string, unknown> };
    expect(chat.detail.appended).toBe(2000);
    const { rows } = await db.warehouse.query(
      `SELECT table_name, last_synced_row_id, last_cursor FROM bq_sync_tracking WHERE table_name IN ('chat_history',
        'users') ORDER BY 1`,
    );
    expect(rows[0]).toMatchObject({ table_name: 'chat_history', last_synced_row_id: '2000' });
    expect(rows[1].last_cursor).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('API keys leave only as HMAC-SHA256 under the configured key', async () => {
    const source = f.app().prepare('SELECT id, key FROM org_api_keys ORDER BY id').all() as Array<{
      id: number;
      key: string;
    }>;
    const bq = await bqRows<{ id: number; key: string }>(f.target, 'SELECT id, key FROM $DS.org_api_keys ORDER BY id');
    expect(bq).toHaveLength(source.length);
    for (const [i, s] of source.entries()) {
      expect(bq[i]!.key).toBe(createHmac('sha256', HASH_KEY).update(s.key).digest('hex'));
      expect(bq[i]!.key).not.toContain('sk-sample');
    }
  });

  it('appends new rows of insert-only tables, and nothing when nothing is new', async () => {
    const app = f.app();
    const insert = app.prepare(
      `INSERT INTO chat_history (id, user_id, question_id, role, content, response_type, created_at) VALUES (?, 1, 1,
        'user', ?, NULL, '2025-03-01 10:00:00')`,
    );
    for (let i = 2001; i <= 2050; i++) insert.run(i, `new message ${i}`);
    const r = await f.sync('chat_history');
    expect(r.inserted).toBe(50);
    expect(await bqCount(f.target, 'chat_history')).toEqual({ n: 2050, distinct: 2050 });
    const again = await f.sync('chat_history');
    expect(again.rows).toBe(0);
    expect(await bqCount(f.target, 'chat_history')).toEqual({ n: 2050, distinct: 2050 });
  });

  it('updates arrive through MERGE; deletes are applied by the full sync', async () => {
    const app = f.app();
    app.prepare(`UPDATE users SET first_name = 'Renamed', updated_at = '2026-01-01 00:00:00' WHERE id = 3`).run();
    app.prepare(`UPDATE users SET first_name = 'Twice-1', updated_at = '2026-01-01 00:00:01' WHERE id = 4`).run();
    app.prepare(`UPDATE users SET first_name = 'Twice-2', updated_at = '2026-01-01 00:00:02' WHERE id = 4`).run();
    app.prepare(`DELETE FROM users WHERE id = 5`).run();
    const inc = await f.sync('users');
    expect(inc.updated).toBeGreaterThanOrEqual(2);
    const names = await bqRows<{ id: number; first_name: string }>(
      f.target,
      'SELECT id, first_name FROM $DS.users WHERE id IN (3, 4, 5) ORDER BY id',
    );
    expect(names.map((r) => r.first_name).slice(0, 2)).toEqual(['Renamed', 'Twice-2']);
    expect(names).toHaveLength(3); // the incremental sync cannot see the delete
    const full = await f.sync('users', 'full');
    expect(full.deleted).toBe(1);
    expect(await bqRows(f.target, 'SELECT id FROM $DS.users WHERE id = 5')).toHaveLength(0);
    expect((await bqCount(f.target, 'users')).n).toBe(sourceCount('users'));
  });

  it('skips a table with nothing new, yet catches a row written in the cursor instant', async () => {
    expect((await f.sync('tasks')).rows).toBe(0);
    const { rows } = await db.warehouse.query(`SELECT last_cursor FROM bq_sync_tracking WHERE table_name = 'tasks'`);
    const cursor = rows[0].last_cursor as string;
    f.app().prepare(`UPDATE tasks SET title = 'Same second', updated_at = ? WHERE id = 7`).run(cursor);
    const r = await f.sync('tasks');
    expect(r.rows).toBeGreaterThanOrEqual(2); // the row already at the cursor and the one just written there
    const [t] = await bqRows<{ title: string }>(f.target, 'SELECT title FROM $DS.tasks WHERE id = 7');
    expect(t!.title).toBe('Same second');
    expect((await f.sync('tasks')).rows).toBe(0);
  });

  it('a new source column appears in BigQuery and is backfilled by the full sync', async () => {
    const app = f.app();
    app.exec(`ALTER TABLE courses ADD COLUMN language TEXT`);
    app.prepare(`UPDATE courses SET language = 'en'`).run();
    app.prepare(`UPDATE courses SET updated_at = '2026-02-01 00:00:00' WHERE id = 1`).run();
    const inc = await f.sync('courses');
    expect(inc.detail?.columnsAdded).toBe('language');
    expect((await readTableSchema(f.target, 'courses')).map((c) => c.name)).toContain('language');
    const [filled] = await bqRows<{ n: number }>(
      f.target,
      `SELECT COUNT(*) AS n FROM $DS.courses WHERE language = 'en'`,
    );
    // Only the changed row (and rows sharing the previous cursor's instant, re-merged on purpose) so far.
    expect(Number(filled!.n)).toBeGreaterThanOrEqual(1);
    expect(Number(filled!.n)).toBeLessThan(sourceCount('courses'));
    await f.sync('courses', 'full');
    const [all] = await bqRows<{ n: number }>(f.target, `SELECT COUNT(*) AS n FROM $DS.courses WHERE language = 'en'`);
    expect(Number(all!.n)).toBe(sourceCount('courses'));
    const { rows } = await db.warehouse.query(
      `SELECT believed_schema FROM bq_sync_tracking WHERE table_name = 'courses'`,
    );
    expect(rows[0].believed_schema).toContainEqual({ name: 'language', type: 'STRING' });
  });

  it('an incompatible type change stops only its table, naming the column', async () => {
    const app = f.app();
    app.exec(`ALTER TABLE milestones RENAME TO milestones_old;
      CREATE TABLE milestones (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, name TEXT NOT NULL, color INTEGER,
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
      INSERT INTO milestones SELECT id, org_id, name, 1, created_at, updated_at
        FROM milestones_old; DROP TABLE milestones_old;`);
    app.prepare(`UPDATE scorecards SET title = 'Still synced', updated_at = '2026-03-01 00:00:00' WHERE id = 2`).run();
    const results = await f.syncAll();
    const failed = [...results].filter(([, r]) => r instanceof Error);
    expect(failed.map(([t]) => t)).toEqual(['milestones']);
    const err = results.get('milestones') as Error;
    expect(err.name).toBe('ValidationError');
    expect(err.message).toMatch(/column color is STRING in BigQuery but INT64 in the source/);
    const [s] = await bqRows<{ title: string }>(f.target, 'SELECT title FROM $DS.scorecards WHERE id = 2');
    expect(s!.title).toBe('Still synced');
    const { rows } = await db.warehouse.query(
      `SELECT last_error FROM bq_sync_tracking WHERE table_name = 'milestones'`,
    );
    expect(rows[0].last_error).toMatch(/column color/);
  });

  it('a crash after a direct append load: no duplicates, and the next sync repairs the cursor', async () => {
    const app = f.app();
    const insert = app.prepare(
      `INSERT INTO task_completions (id, user_id, task_id, question_id, created_at) VALUES (?, 2, 3, NULL,
        '2026-04-01 00:00:00')`,
    );
    for (let i = 1001; i <= 1010; i++) insert.run(i);
    const before = await bqCount(f.target, 'task_completions');
    f.deps.beforeApply = async () => {
      throw new Error('worker lost after the load');
    };
    await expect(f.sync('task_completions')).rejects.toThrow(/worker lost/);
    f.deps.beforeApply = undefined;
    // The load job is atomic: all ten rows landed, none twice, while the cursor stayed where it was.
    expect(await bqCount(f.target, 'task_completions')).toEqual({ n: before.n + 10, distinct: before.n + 10 });
    const cursor = async () =>
      (
        await db.warehouse.query(
          `SELECT last_synced_row_id FROM bq_sync_tracking WHERE table_name = 'task_completions'`,
        )
      ).rows[0].last_synced_row_id;
    expect(await cursor()).toBe('200');
    // The retry reads from above BigQuery's highest id: nothing twice, and the cursor catches up.
    const r = await f.sync('task_completions');
    expect(r).toMatchObject({ rows: 0, inserted: 0 });
    expect(await bqCount(f.target, 'task_completions')).toEqual({ n: before.n + 10, distinct: before.n + 10 });
    expect(await cursor()).toBe('1010');
    const tables = await f.target.bq.dataset(f.target.datasetId).getTables();
    expect(tables[0].map((t) => t.id).filter((id) => id?.startsWith('_learnsync_stg_'))).toEqual([]);
  });

  it('a direct load runs in load jobs one after another; a crash between two leaves a prefix, then exact', async () => {
    const source = sourceCount('chat_history');
    const jobs: number[] = [];
    await f.sync('chat_history'); // the dataset and the tracking row exist, as after any earlier run
    await bqRows(f.target, 'DROP TABLE $DS.chat_history');
    f.deps.directLoadRowsPerJob = 500; // one read chunk (500 lines) per job
    f.deps.afterLoadJob = async (_table, job) => {
      jobs.push(job);
      if (job === 1) throw new Error('worker lost between two load jobs');
    };
    try {
      await expect(f.sync('chat_history')).rejects.toThrow(/between two load jobs/);
      // Jobs 0 and 1 committed, in read (id) order: the lowest 1,000 ids, nothing else.
      expect(jobs).toEqual([0, 1]);
      expect(await bqCount(f.target, 'chat_history')).toEqual({ n: 1000, distinct: 1000 });
      const [top] = await bqRows<{ m: number }>(f.target, 'SELECT MAX(id) AS m FROM $DS.chat_history');
      const ids = f.app().prepare('SELECT id FROM chat_history ORDER BY id LIMIT 1 OFFSET 999').get() as {
        id: number;
      };
      expect(Number(top!.m)).toBe(ids.id);
      // The retry: BigQuery holds fewer rows than were sent before, so the table is read again and merged.
      f.deps.afterLoadJob = async (_table, job) => {
        jobs.push(job);
      };
      await f.sync('chat_history');
      expect(await bqCount(f.target, 'chat_history')).toEqual({ n: source, distinct: source });
      // A fresh copy of the same table takes ceil(rows / 500) jobs.
      jobs.length = 0;
      await bqRows(f.target, 'DROP TABLE $DS.chat_history');
      await f.sync('chat_history');
      expect(jobs).toEqual(Array.from({ length: Math.ceil(source / 500) }, (_, i) => i));
      expect(await bqCount(f.target, 'chat_history')).toEqual({ n: source, distinct: source });
    } finally {
      f.deps.directLoadRowsPerJob = undefined;
      f.deps.afterLoadJob = undefined;
    }
  });

  it('a crash between the staging load and the MERGE leaves BigQuery as it was and no staging table', async () => {
    const app = f.app();
    app.prepare(`UPDATE users SET first_name = 'Crashed', updated_at = '2026-02-01 00:00:00' WHERE id = 6`).run();
    const before = await bqSnapshot(f.target, 'users');
    f.deps.beforeApply = async () => {
      throw new Error('worker lost between load and MERGE');
    };
    await expect(f.sync('users')).rejects.toThrow(/worker lost/);
    f.deps.beforeApply = undefined;
    expect(await bqSnapshot(f.target, 'users')).toBe(before);
    const tables = await f.target.bq.dataset(f.target.datasetId).getTables();
    expect(tables[0].map((t) => t.id)).not.toContain(stagingTableName('users'));

    // A worker killed outright leaves its staging table behind: the next sync replaces and drops it.
    await bqRows(f.target, `CREATE TABLE $DS.${stagingTableName('users')} (id INT64)`);
    const r = await f.sync('users');
    expect(r.updated).toBeGreaterThanOrEqual(1);
    const [u] = await bqRows<{ first_name: string }>(f.target, 'SELECT first_name FROM $DS.users WHERE id = 6');
    expect(u!.first_name).toBe('Crashed');
    expect((await bqCount(f.target, 'users')).n).toBe(sourceCount('users'));
    const after = await f.target.bq.dataset(f.target.datasetId).getTables();
    expect(after[0].map((t) => t.id).filter((id) => id?.startsWith('_learnsync_stg_'))).toEqual([]);
  });

  it('re-running the same window gives the same table', async () => {
    const first = await bqSnapshot(f.target, 'chat_history');
    // Forget the cursor, as if the tracking commit had been lost after BigQuery got the rows: the
    // sync reads from above BigQuery's highest id (nothing), adds nothing and repairs the cursor.
    await db.warehouse.query(`UPDATE bq_sync_tracking SET last_synced_row_id = 1500 WHERE table_name = 'chat_history'`);
    const r = await f.sync('chat_history');
    expect(r.rows).toBe(0);
    expect(r.inserted).toBe(0);
    const { rows } = await db.warehouse.query(
      `SELECT last_synced_row_id FROM bq_sync_tracking WHERE table_name = 'chat_history'`,
    );
    expect(rows[0].last_synced_row_id).toBe('2050');
    expect(await bqSnapshot(f.target, 'chat_history')).toBe(first);
    await db.warehouse.query(`UPDATE bq_sync_tracking SET last_cursor = NULL WHERE table_name = 'users'`);
    const users = await bqSnapshot(f.target, 'users');
    await f.sync('users');
    await f.sync('users', 'full');
    expect(await bqSnapshot(f.target, 'users')).toBe(users);
  });

  it('rejects rows it cannot convert, with the reason, and loads the rest', async () => {
    const app = f.app();
    app
      .prepare(
        `INSERT INTO chat_history (id, user_id, question_id, role, content, response_type, created_at) VALUES (2051,
          1, 1, 'user', 'ok', NULL, '2026-05-01 10:00:00'), (2052, 1, 1, 'user', 'bad time', NULL, 'last tuesday')`,
      )
      .run();
    const r = await f.sync('chat_history');
    expect(r).toMatchObject({ rows: 2, inserted: 1, rejected: 1 });
    expect(String(r.detail?.firstReject)).toMatch(/id=2052: created_at: not a timestamp: "last tuesday"/);
    expect(await bqRows(f.target, 'SELECT id FROM $DS.chat_history WHERE id > 2050 ORDER BY id')).toEqual([
      { id: 2051 },
    ]);
    const { rows } = await db.warehouse.query(
      `SELECT last_rows_rejected, last_reject_reason FROM bq_sync_tracking WHERE table_name = 'chat_history'`,
    );
    expect(rows[0]).toMatchObject({
      last_rows_rejected: '1',
      last_reject_reason: expect.stringMatching(/last tuesday/),
    });
  });

  it('publishes a warehouse table to BigQuery, replacing it whole on every run', async () => {
    await db.warehouse.query(
      `CREATE SCHEMA IF NOT EXISTS marts; CREATE TABLE marts.daily_active (day DATE NOT NULL, tenant TEXT NOT NULL,
        learners INTEGER, minutes NUMERIC(10,2), refreshed_at TIMESTAMPTZ)`,
    );
    await db.warehouse.query(
      `INSERT INTO marts.daily_active SELECT DATE '2026-01-01' + g, 't' || (g % 3), g * 10, g * 1.5, now()
        FROM generate_series(0, 99) g`,
    );
    const publish = () =>
      f.activities.publishWarehouseTableToBigQuery({
        pipeline: 'publish',
        nodeId: 'publish_daily_active',
        force: false,
        params: { schema: 'marts', table: 'daily_active' },
      });
    const first = await publish();
    expect(first).toMatchObject({ rows: 100, inserted: 100 });
    await db.warehouse.query(
      `DELETE FROM marts.daily_active WHERE learners >= 500;
       ALTER TABLE marts.daily_active ADD COLUMN region TEXT DEFAULT 'eu'`,
    );
    const second = await publish();
    expect(second.rows).toBe(50);
    const rows = await bqRows<{ n: number; learners: number; region: string }>(
      f.target,
      `SELECT COUNT(*) AS n, SUM(learners) AS learners, MIN(region) AS region FROM $DS.marts_daily_active`,
    );
    expect(rows[0]).toMatchObject({ region: 'eu' });
    expect(Number(rows[0]!.n)).toBe(50);
    expect(Number(rows[0]!.learners)).toBe(Array.from({ length: 50 }, (_, g) => g * 10).reduce((a, b) => a + b, 0));
    const tables = (await f.target.bq.dataset(f.target.datasetId).getTables())[0].map((t) => t.id);
    expect(tables.filter((t) => t?.startsWith('_learnsync_'))).toEqual([]);
  });
});
