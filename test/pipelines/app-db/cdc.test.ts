// APP_DB_CAPTURE=cdc on a SQLite app database: a random workload of inserts, updates (with and
// without updated_at), in-place edits of an insert-only table, deletes and re-inserts of the same
// key, several changes of one row between syncs — after every incremental sync BigQuery equals the
// SQLite tables; a crash between the MERGE and the commit applies nothing twice; the change log is
// trimmed only up to a committed position.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../../src/stack/sample-kit/random.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import type { BigQueryEmulatorHandle } from '../../../src/stack/bigquery-emulator.js';
import { appDbFixture, bqRows, emulatorAvailable, startEmulator, type AppDbFixture } from './support.js';

const COMPARED: Record<string, string[]> = {
  users: ['id', 'email', 'first_name', 'last_name'],
  chat_history: ['id', 'user_id', 'role', 'content'],
};

describe.skipIf(!emulatorAvailable)('app-db change capture (SQLite change log → BigQuery)', () => {
  let db: TestDatabases;
  let emulator: BigQueryEmulatorHandle;
  let f: AppDbFixture;

  beforeAll(async () => {
    [db, emulator] = await Promise.all([createTestDatabases(), startEmulator()]);
    f = await appDbFixture(db, emulator, { APP_DB_CAPTURE: 'cdc' });
  });
  afterAll(async () => {
    f?.close();
    await emulator?.stop();
    await db?.close();
  });

  const sqliteSide = (table: string) => {
    const cols = COMPARED[table]!;
    const rows = f
      .app()
      .prepare(`SELECT ${cols.join(', ')} FROM ${table} ORDER BY id`)
      .all() as Record<string, unknown>[];
    return JSON.stringify(rows.map((r) => cols.map((c) => (r[c] === null ? null : String(r[c])))));
  };
  const bigquerySide = async (table: string) => {
    const cols = COMPARED[table]!;
    const rows = await bqRows<Record<string, unknown>>(
      f.target,
      `SELECT ${cols.join(', ')} FROM $DS.${table} ORDER BY id`,
    );
    return JSON.stringify(rows.map((r) => cols.map((c) => (r[c] === null ? null : String(r[c])))));
  };
  const storedSeq = async (table: string) =>
    (await db.warehouse.query(`SELECT last_change_seq FROM bq_sync_tracking WHERE table_name = $1`, [table])).rows[0]
      ?.last_change_seq as string | null;
  const logRows = (table: string) =>
    (f.app().prepare('SELECT COUNT(*) AS n FROM learnsync_changes WHERE tbl = ?').get(table) as { n: number }).n;

  it('> 10,000 random changes: BigQuery equals the source after every sync, nothing twice', async () => {
    for (const t of Object.keys(COMPARED)) await f.sync(t); // the first sync: a copy, and the triggers
    expect(await storedSeq('users')).not.toBeNull();
    const app = f.app();
    const random = prng(18); // the same workload on every run
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    let changes = 0;
    let nextUser = 100_000;
    let nextChat = 100_000;
    for (let round = 0; round < 5; round++) {
      const users = (app.prepare('SELECT id FROM users').all() as { id: number }[]).map((r) => r.id);
      const chats = (app.prepare('SELECT id FROM chat_history').all() as { id: number }[]).map((r) => r.id);
      app.transaction(() => {
        for (let i = 0; i < 2200; i++) {
          const r = random();
          if (r < 0.25) {
            // an update that leaves updated_at alone, often several of one row before the next sync
            const id = i % 3 === 0 ? users[0]! : pick(users);
            app.prepare('UPDATE users SET first_name = ? WHERE id = ?').run(`n${round}-${i}`, id);
          } else if (r < 0.35) {
            const id = pick(users);
            const gone = app.prepare('DELETE FROM users WHERE id = ?').run(id).changes;
            // deleted, and half the time inserted again under the same key
            if (gone && random() < 0.5)
              app
                .prepare(
                  `INSERT INTO users (id, email, first_name, last_name, created_at, updated_at)
                   VALUES (?, ?, 'Again', ?, '2020-01-01 00:00:00', '2020-01-01 00:00:00')`,
                )
                .run(id, `again-${id}-${round}@example.org`, `r${round}`);
          } else if (r < 0.45) {
            // a new row with an old updated_at: a cursor would skip it
            app
              .prepare(
                `INSERT INTO users (id, email, first_name, last_name, created_at, updated_at)
                 VALUES (?, ?, 'New', 'Old', '2019-01-01 00:00:00', '2019-01-01 00:00:00')`,
              )
              .run(nextUser, `new-${nextUser++}@example.org`);
          } else if (r < 0.7) {
            // an in-place edit of an insert-only table
            app.prepare('UPDATE chat_history SET content = ? WHERE id = ?').run(`edited ${round}-${i}`, pick(chats));
          } else if (r < 0.8) {
            app.prepare('DELETE FROM chat_history WHERE id = ?').run(pick(chats));
          } else {
            app
              .prepare(
                `INSERT INTO chat_history (id, user_id, question_id, role, content, created_at)
                 VALUES (?, 1, 1, 'user', ?, '2026-01-01 00:00:00')`,
              )
              .run(nextChat++, `new ${round}-${i}`);
          }
          changes++;
        }
      })();
      const before = { users: await storedSeq('users'), chat: await storedSeq('chat_history') };
      if (round === 2) {
        // a worker lost between the MERGE's load and its commit: nothing recorded, then the same changes again
        f.deps.beforeApply = async () => {
          throw new Error('worker lost');
        };
        await expect(f.sync('users')).rejects.toThrow(/worker lost/);
        f.deps.beforeApply = undefined;
        expect(await storedSeq('users')).toBe(before.users);
      }
      for (const t of Object.keys(COMPARED)) {
        const r = await f.sync(t);
        expect(r.detail?.changeSeq, t).toBeGreaterThan(Number(t === 'users' ? before.users : before.chat));
        expect(await bigquerySide(t), `${t} after round ${round}`).toBe(sqliteSide(t));
      }
      const [counts] = await bqRows<{ n: number; d: number }>(
        f.target,
        'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM $DS.chat_history',
      );
      expect(Number(counts!.n)).toBe(Number(counts!.d));
    }
    expect(changes).toBeGreaterThanOrEqual(10_000);
    // Trimmed up to the committed position at the next sync: only what came after remains.
    await f.sync('users');
    expect(logRows('users')).toBe(0);
    // status says which mode ran, per table
    const { readAppDbStatus, formatAppDbStatus } = await import('../../../src/pipelines/app-db/status.js');
    const status = await readAppDbStatus(db.warehouse, `${f.target.projectId}.${f.target.datasetId}`);
    expect(status.find((t) => t.table === 'users')).toMatchObject({ capture: 'cdc' });
    expect(status.find((t) => t.table === 'courses')).toMatchObject({ capture: null });
    expect(formatAppDbStatus(status).find((l) => l.startsWith('users '))).toMatch(/cdc @\d+/);
  });
});
