// Every value kept (issue 17): cursors compared as instants whatever form the app wrote them in,
// values BigQuery cannot hold rejected row by row with their reason, rejected rows never deleted
// from BigQuery by the full sync, privacy settings applied on the next run. Real bqemulator, real
// SQLite file, real warehouse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import type { BigQueryEmulatorHandle } from '../../../src/stack/bigquery-emulator.js';
import { createHmac } from 'node:crypto';
import { createBigQueryClient, readTableSchema } from '../../../src/connectors/bigquery/client.js';
import { createAppDbActivities } from '../../../src/pipelines/app-db/activities.js';
import { readAppDbStatus } from '../../../src/pipelines/app-db/status.js';
import { trackingDataset } from '../../../src/pipelines/app-db/tracking.js';
import {
  appDbFixture,
  HASH_KEY,
  quietLogger,
  bqRows,
  emulatorAvailable,
  startEmulator,
  type AppDbFixture,
} from './support.js';

const MS = (iso: string) => Date.parse(iso);

describe.skipIf(!emulatorAvailable)('app-db values (bqemulator)', () => {
  let db: TestDatabases;
  let emulator: BigQueryEmulatorHandle;
  let f: AppDbFixture;

  beforeAll(async () => {
    [db, emulator] = await Promise.all([createTestDatabases(), startEmulator()]);
    f = await appDbFixture(db, emulator, {}, 200);
  });
  afterAll(async () => {
    f?.close();
    await emulator?.stop();
    await db?.close();
  });

  const cursorOf = async (table: string) =>
    (
      await db.warehouse.query<{ last_cursor: string }>(
        'SELECT last_cursor FROM bq_sync_tracking WHERE table_name = $1',
        [table],
      )
    ).rows[0]?.last_cursor;
  const bqUser = async (id: number) =>
    (
      await bqRows<{ first_name: string; ms: number }>(
        f.target,
        'SELECT first_name, UNIX_MILLIS(updated_at) AS ms FROM $DS.users WHERE id = @id',
        { id },
      )
    )[0];

  it('updated_at cursors compare instants: ISO T/Z, space-separated, epoch seconds and milliseconds', async () => {
    await f.sync('users');
    const set = f.app().prepare('UPDATE users SET first_name = ?, updated_at = ? WHERE id = ?');
    const steps: Array<[number, string, string | number, string]> = [
      [1, 'iso-t', '2030-01-01T10:00:00Z', '2030-01-01T10:00:00.000Z'],
      // Later, yet smaller as text than the ISO-T value before it.
      [2, 'space', '2030-01-01 11:00:00', '2030-01-01T11:00:00.000Z'],
      [3, 'epoch-s', MS('2030-01-01T12:00:00Z') / 1000, '2030-01-01T12:00:00.000Z'],
      [4, 'epoch-ms', MS('2030-01-01T13:00:00Z'), '2030-01-01T13:00:00.000Z'],
      [5, 'offset', '2030-01-01T15:30:00+02:00', '2030-01-01T13:30:00.000Z'],
    ];
    for (const [id, name, updatedAt, cursor] of steps) {
      set.run(name, updatedAt, id);
      const r = await f.sync('users');
      expect(r.rows, name).toBeGreaterThanOrEqual(1);
      expect(await bqUser(id), name).toMatchObject({ first_name: name });
      expect(Number((await bqUser(id))!.ms), name).toBe(MS(cursor));
      expect(await cursorOf('users'), name).toBe(cursor);
    }
    expect((await f.sync('users')).rows).toBe(0);
  });

  it('the full sync repairs a cursor stuck in the future', async () => {
    // What the text comparison used to leave behind: a cursor no later row ever passes.
    await db.warehouse.query(
      `UPDATE bq_sync_tracking SET last_cursor = '9999-01-01T00:00:00' WHERE table_name = 'users'`,
    );
    f.app().prepare(`UPDATE users SET first_name = 'missed', updated_at = '2030-01-02 00:00:00' WHERE id = 6`).run();
    expect((await f.sync('users')).rows).toBe(0);
    await f.sync('users', 'full');
    expect(await cursorOf('users')).toBe('2030-01-02T00:00:00.000Z');
    expect(await bqUser(6)).toMatchObject({ first_name: 'missed' });
    f.app().prepare(`UPDATE users SET first_name = 'seen', updated_at = '2030-01-02T01:00:00Z' WHERE id = 7`).run();
    expect((await f.sync('users')).rows).toBeGreaterThanOrEqual(1);
    expect(await bqUser(7)).toMatchObject({ first_name: 'seen' });
  });

  it('a value BigQuery cannot hold is a row reject with its reason, not a failed load job', async () => {
    const insert = f
      .app()
      .prepare(
        `INSERT INTO chat_history (id, user_id, question_id, role, content, created_at) VALUES (?, ?, 1, 'user', ?, ?)`,
      );
    const epochMs = MS('2024-05-01T10:00:00Z');
    insert.run(1001, 1, 'epoch ms', epochMs);
    insert.run(1002, 1, 'epoch µs (year 56000 read as ms)', BigInt(epochMs) * 1000n);
    insert.run(1003, 1, 'year zero', '0000-06-01 10:00:00');
    insert.run(1004, 1, 'no such day', '2024-02-30 10:00:00');
    insert.run(1005, 1e20, 'user id beyond INT64', '2024-05-01 10:00:00');
    insert.run(1006, 9007199254740993n, 'user id above 2^53, kept exactly', '2024-05-01 10:00:00');
    // The 200 sample rows and these 6: one load job, the 4 bad rows rejected, the rest loaded.
    const r = await f.sync('chat_history');
    expect(r).toMatchObject({ rows: 206, inserted: 202, rejected: 4 });
    expect(String(r.detail?.firstReject)).toMatch(
      /id=1002: created_at: timestamp "1714557600000000" is outside BigQuery's range/,
    );
    // Each one in etl_rejects with its reason, column, raw value and row — not only a count.
    const { rows: rejects } = await db.warehouse.query<{ reason: string; raw: Record<string, unknown> }>(
      `SELECT reason, raw FROM etl_rejects WHERE raw->>'app_db_table' = 'chat_history'
        ORDER BY (raw->>'app_db_key')::int`,
    );
    expect(rejects.map((x) => [x.raw.app_db_key, x.raw.column, x.raw.value])).toEqual([
      ['1002', 'created_at', '1714557600000000'],
      ['1003', 'created_at', '0000-06-01 10:00:00'],
      ['1004', 'created_at', '2024-02-30 10:00:00'],
      ['1005', 'user_id', 1e20],
    ]);
    expect(rejects[3]!.reason).toMatch(/^user_id: integer "100000000000000000000" is outside BigQuery's INT64 range/);
    expect((rejects[0]!.raw.row as Record<string, unknown>).content).toBe('epoch µs (year 56000 read as ms)');
    // The next incremental read starts above them; the rejects stay visible until a full sync re-reads them.
    f.app().prepare(`UPDATE chat_history SET created_at = '2024-05-01 10:00:00' WHERE id = 1003`).run();
    expect((await f.sync('chat_history')).rows).toBe(0);
    expect(
      (await db.warehouse.query(`SELECT 1 FROM etl_rejects WHERE raw->>'app_db_table' = 'chat_history'`)).rowCount,
    ).toBe(4);
    const full = await f.sync('chat_history', 'full');
    expect(full).toMatchObject({ rejected: 3 });
    expect(await bqRows(f.target, 'SELECT id FROM $DS.chat_history WHERE id = 1003')).toEqual([{ id: 1003 }]);
    const { rows: after } = await db.warehouse.query<{ key: string }>(
      `SELECT raw->>'app_db_key' AS key FROM etl_rejects WHERE raw->>'app_db_table' = 'chat_history' ORDER BY 1`,
    );
    expect(after.map((x) => x.key)).toEqual(['1002', '1004', '1005']);
    const loaded = await bqRows<{ id: number; user_id: string; ms: number }>(
      f.target,
      `SELECT id, CAST(user_id AS STRING) AS user_id, UNIX_MILLIS(created_at) AS ms FROM $DS.chat_history
        WHERE id > 1000 AND id <> 1003 ORDER BY id`,
    );
    expect(loaded.map((x) => [x.id, x.user_id, Number(x.ms)])).toEqual([
      [1001, '1', epochMs],
      [1006, '9007199254740993', epochMs],
    ]);
  });

  it('a full sync never deletes a row the source still has: a rejected row keeps its last good version', async () => {
    await f.sync('users', 'full');
    const before = await bqRows<{ first_name: string }>(f.target, 'SELECT first_name FROM $DS.users WHERE id = 8');
    expect(before).toHaveLength(1);
    const app = f.app();
    app.prepare(`UPDATE users SET first_name = 'unreadable', updated_at = 'last tuesday' WHERE id = 8`).run();
    app.prepare(`UPDATE users SET first_name = 'renamed', updated_at = '2030-01-03 00:00:00' WHERE id = 9`).run();
    app.prepare(`DELETE FROM users WHERE id = 10`).run();
    const full = await f.sync('users', 'full');
    expect(full).toMatchObject({ rejected: 1, deleted: 1 });
    expect(await bqRows(f.target, 'SELECT first_name FROM $DS.users WHERE id = 8')).toEqual(before);
    expect(await bqUser(9)).toMatchObject({ first_name: 'renamed' });
    expect(await bqRows(f.target, 'SELECT id FROM $DS.users WHERE id = 10')).toEqual([]);
    const source = (app.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
    const [bq] = await bqRows<{ n: number }>(f.target, 'SELECT COUNT(*) AS n FROM $DS.users');
    expect(Number(bq!.n)).toBe(source);
    // Nothing of the marker reaches the table.
    const { rows } = await db.warehouse.query(
      `SELECT believed_schema FROM bq_sync_tracking WHERE table_name = 'users'`,
    );
    expect(JSON.stringify(rows[0].believed_schema)).not.toMatch(/_learnsync/);
  });

  it('newly dropped and newly secret columns take effect in BigQuery on the next run', async () => {
    await f.sync('users');
    const withPrivacy = (secret: string[], drop: string[]) =>
      createAppDbActivities({
        warehouse: db.warehouse,
        logger: quietLogger,
        config: {
          ...f.config,
          appDb: {
            ...f.config.appDb,
            secretColumns: { ...f.config.appDb.secretColumns, users: secret },
            dropColumns: { users: drop },
          },
        },
        appDb: f.deps,
      }).syncAppDbTable({
        pipeline: 'app-db-incremental',
        nodeId: 'app_db_incremental_users',
        force: false,
        params: { table: 'users', mode: 'incremental' },
      });
    const source = f.app().prepare('SELECT id, email FROM users ORDER BY id').all() as Array<{
      id: number;
      email: string;
    }>;
    const bqEmails = async () =>
      (await bqRows<{ id: number; email: string }>(f.target, 'SELECT id, email FROM $DS.users ORDER BY id')).map(
        (r) => [r.id, r.email],
      );
    expect(await bqEmails()).toEqual(source.map((r) => [r.id, r.email]));

    // Nothing changed in the source: the next incremental run applies the new settings all the same.
    const r = await withPrivacy(['email'], ['last_name']);
    expect(r.detail).toMatchObject({ columnsDropped: 'last_name', columnsReset: 'email', mode: 'incremental' });
    expect((await readTableSchema(f.target, 'users')).map((c) => c.name)).not.toContain('last_name');
    const hmac = (v: string) => createHmac('sha256', HASH_KEY).update(v).digest('hex');
    // User 8 is rejected (its updated_at is 'last tuesday', above): its clear e-mail is gone all the same.
    expect(await bqEmails()).toEqual(source.map((x) => [x.id, x.id === 8 ? null : hmac(x.email)]));
    const { rows } = await db.warehouse.query(`SELECT secret_columns FROM bq_sync_tracking WHERE table_name = 'users'`);
    expect(rows[0].secret_columns).toEqual(['email']);
    // Same settings again: nothing to redo.
    expect((await withPrivacy(['email'], ['last_name'])).detail).not.toHaveProperty('columnsReset');

    // No longer secret: clear values again (the operator's choice), never a mix.
    const back = await withPrivacy([], ['last_name']);
    expect(back.detail).toMatchObject({ columnsReset: 'email' });
    expect(await bqEmails()).toEqual(source.map((x) => [x.id, x.id === 8 ? null : x.email]));
  });

  it('a target table that was recreated empty or lost rows resets its cursor and says so', async () => {
    const sourceCount = (t: string) => (f.app().prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    const bqCountOf = async (t: string) =>
      Number((await bqRows<{ n: number }>(f.target, `SELECT COUNT(*) AS n FROM $DS.${t}`))[0]!.n);
    await f.sync('courses');
    await f.sync('task_completions');
    expect((await f.sync('courses')).detail).not.toHaveProperty('reset');

    // Dropped in BigQuery (or a fresh, empty emulator): recreated, and refilled whole at once.
    await bqRows(f.target, 'DROP TABLE $DS.courses');
    const recreated = await f.sync('courses');
    expect(String(recreated.detail?.reset)).toMatch(/courses did not exist although bq_sync_tracking says/);
    expect(await bqCountOf('courses')).toBe(sourceCount('courses'));

    // Rows deleted there: fewer than after the last sync.
    const before = await bqCountOf('task_completions');
    await bqRows(f.target, 'DELETE FROM $DS.task_completions WHERE id > 10');
    const refilled = await f.sync('task_completions');
    expect(String(refilled.detail?.reset)).toMatch(new RegExp(`holds 10 rows but held ${before} after the last sync`));
    expect(await bqCountOf('task_completions')).toBe(sourceCount('task_completions'));
    expect((await f.sync('task_completions')).detail).not.toHaveProperty('reset');

    const status = await readAppDbStatus(db.warehouse, trackingDataset(f.target));
    expect(status.find((s) => s.table === 'task_completions')).toMatchObject({
      lastReset: expect.stringMatching(/^cursor reset: .*holds 10 rows/),
      lastResetAt: expect.any(String),
    });
  });

  it('invalid UTF-8 in SQLite text is a row reject with the exact bytes, never silently changed', async () => {
    const bad = Buffer.from([0x61, 0xff, 0x62, 0xc3]);
    const insert = f.app().prepare(
      `INSERT INTO chat_history (id, user_id, question_id, role, content, created_at)
          VALUES (?, 1, 1, 'user', CAST(? AS TEXT), '2024-05-01 10:00:00')`,
    );
    insert.run(3001, bad);
    insert.run(3002, Buffer.from('a\uFFFDb', 'utf8')); // U+FFFD written on purpose: valid, kept
    const r = await f.sync('chat_history');
    expect(r).toMatchObject({ rows: 2, inserted: 1, rejected: 1 });
    expect(String(r.detail?.firstReject)).toBe('id=3001: content: invalid UTF-8 (hex 61ff62c3)');
    expect(await bqRows(f.target, 'SELECT content FROM $DS.chat_history WHERE id = 3002')).toEqual([
      { content: 'a\uFFFDb' },
    ]);
    const { rows } = await db.warehouse.query(
      `SELECT reason, raw->'value' AS value FROM etl_rejects WHERE raw->>'app_db_table' = 'chat_history'
        AND raw->>'app_db_key' = '3001'`,
    );
    expect(rows).toEqual([
      { reason: 'content: invalid UTF-8 (hex 61ff62c3)', value: { invalid_utf8_base64: bad.toString('base64') } },
    ]);
  });

  it('rows a warehouse publish cannot load land in etl_rejects too', async () => {
    await db.warehouse.query(
      `CREATE SCHEMA IF NOT EXISTS marts; CREATE TABLE marts.amounts (id INT NOT NULL, amount NUMERIC);
       INSERT INTO marts.amounts VALUES (1, 0.5), (2, 1e40)`,
    );
    const r = await f.activities.publishWarehouseTableToBigQuery({
      pipeline: 'publish',
      nodeId: 'publish_amounts',
      force: false,
      params: { schema: 'marts', table: 'amounts' },
    });
    expect(r).toMatchObject({ rows: 2, inserted: 1, rejected: 1 });
    const { rows } = await db.warehouse.query(
      `SELECT job_name, reason, raw->'row'->>'id' AS id FROM etl_rejects WHERE job_name = 'publish_amounts'`,
    );
    expect(rows).toEqual([
      { job_name: 'publish_amounts', reason: expect.stringMatching(/^amount: number ".*" does not fit/), id: '2' },
    ]);
  });

  it('a fresh, empty emulator behind synced tracking is refilled, not reported as 0 rows', async () => {
    const tables = ['users', 'chat_history', 'org_api_keys'];
    for (const t of tables) await f.sync(t);
    // The worker restarts and gets a new emulator: same project and dataset, nothing in it.
    const fresh = await startEmulator();
    try {
      const target = {
        bq: createBigQueryClient({ projectId: fresh.projectId, apiEndpoint: fresh.apiEndpoint }),
        projectId: f.target.projectId,
        datasetId: f.target.datasetId,
      };
      const acts = createAppDbActivities({
        warehouse: db.warehouse,
        logger: quietLogger,
        config: f.config,
        appDb: { ...f.deps, target: async () => target },
      });
      for (const t of tables) {
        const r = await acts.syncAppDbTable({
          pipeline: 'app-db-incremental',
          nodeId: `app_db_incremental_${t}`,
          force: false,
          params: { table: t, mode: 'incremental' },
        });
        expect(String(r.detail?.reset), t).toMatch(/did not exist although bq_sync_tracking says rows were synced/);
        const source = (f.app().prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
        const rejected = Number(r.rejected ?? 0);
        const [bq] = await bqRows<{ n: number }>(target, `SELECT COUNT(*) AS n FROM $DS.${t}`);
        expect(Number(bq!.n) + rejected, t).toBe(source);
        expect(Number(bq!.n), t).toBeGreaterThan(0);
      }
    } finally {
      await fresh.stop();
    }
  });
});
