// APP_DB_CAPTURE=cdc on a Postgres app database (issue 18): the app_db capture source streams the
// slot's changes into the warehouse's change log (each batch with the slot position, in one
// transaction) and the incremental syncs MERGE the changed keys' current rows into BigQuery. A random
// workload of > 10,000 inserts, updates with and without updated_at, in-place edits of an insert-only
// table, deletes and re-inserts of one key, key changes and a TRUNCATE; after every round BigQuery
// equals the source, and the capture, stopped mid-stream and resumed, counted every change once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { openPostgresSource } from '../../../src/connectors/app-db/postgres.js';
import { createAppDbActivities } from '../../../src/pipelines/app-db/activities.js';
import { appDbTable } from '../../../src/pipelines/app-db/definition.js';
import { appDbCaptureSource, APP_DB_CAPTURE_SOURCE } from '../../../src/pipelines/app-db/postgres-change-log.js';
import { dropCapture, runCapture, startCapture, type CaptureSource } from '../../../src/runtime/cdc/capture.js';
import { prng } from '../../../src/stack/sample-kit/random.js';
import type { BigQueryEmulatorHandle } from '../../../src/stack/bigquery-emulator.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { appDbFixture, bqRows, emulatorAvailable, quietLogger, startEmulator, type AppDbFixture } from './support.js';

const COMPARED: Record<string, string[]> = {
  users: ['id', 'email', 'first_name', 'last_name'],
  chat_history: ['id', 'user_id', 'role', 'content'],
};

describe.skipIf(!emulatorAvailable)('app-db change capture (Postgres logical replication → BigQuery)', () => {
  let db: TestDatabases;
  let emulator: BigQueryEmulatorHandle;
  let f: AppDbFixture;
  let capture: CaptureSource;
  let sync: (table: string) => Promise<{ detail?: Record<string, unknown> }>;
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    [db, emulator] = await Promise.all([createTestDatabases(), startEmulator()]);
    f = await appDbFixture(db, emulator);
    await db.oltp.query(`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, first_name TEXT,
      last_name TEXT, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`);
    await db.oltp.query(`CREATE TABLE chat_history (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, role TEXT NOT NULL,
      content TEXT, created_at TIMESTAMPTZ NOT NULL)`);
    await db.oltp.query(`INSERT INTO users SELECT g, 'u' || g || '@example.org', 'F' || g, 'L', '2025-01-01',
      '2025-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 500) g`);
    await db.oltp.query(`INSERT INTO chat_history SELECT g, 1 + g % 500, 'user', 'hello ' || g, '2025-01-01'
      FROM generate_series(1, 2000) g`);
    const env = loadConfig({
      APP_DB_POSTGRES_URL: db.oltpUrl,
      APP_DB_HASH_KEY: 'test-hash-key-0123456789abcdef',
      APP_DB_CAPTURE: 'cdc',
      APP_DB_CDC_SLOT: `t_app_${suffix}`,
      APP_DB_CDC_PUBLICATION: `t_app_${suffix}`,
      LOG_LEVEL: 'silent',
    });
    expect(env.appDb).toMatchObject({ capture: 'cdc', source: { kind: 'postgres' } });
    const config = { ...f.config, appDb: { ...f.config.appDb, source: env.appDb.source, capture: 'cdc' as const } };
    const deps = { ...f.deps, openSource: async () => openPostgresSource(db.oltpUrl) };
    const activities = createAppDbActivities({ warehouse: db.warehouse, logger: quietLogger, config, appDb: deps });
    sync = (table) =>
      activities.syncAppDbTable({
        pipeline: 'app-db-incremental',
        nodeId: `app_db_incremental_${table}`,
        force: false,
        params: { table, mode: 'incremental' },
      });
    capture = appDbCaptureSource({
      url: db.oltpUrl,
      schema: 'public',
      ...env.appDb.cdc,
      tables: ['users', 'chat_history'].map((t) => appDbTable(t)!),
    });
  });
  afterAll(async () => {
    if (capture) await dropCapture(db.warehouse, db.oltp, capture).catch(() => {});
    f?.close();
    await emulator?.stop();
    await db?.close();
  });

  const side = (rows: Record<string, unknown>[], cols: string[]) =>
    JSON.stringify(rows.map((r) => cols.map((c) => (r[c] === null ? null : String(r[c])))));
  const sourceSide = async (t: string) =>
    side((await db.oltp.query(`SELECT ${COMPARED[t]!.join(', ')} FROM ${t} ORDER BY id`)).rows, COMPARED[t]!);
  const bigquerySide = async (t: string) =>
    side(await bqRows(f.target, `SELECT ${COMPARED[t]!.join(', ')} FROM $DS.${t} ORDER BY id`), COMPARED[t]!);
  const applied = async () =>
    Number(
      (
        await db.warehouse.query('SELECT changes_applied FROM cdc_slot_state WHERE source = $1', [
          APP_DB_CAPTURE_SOURCE,
        ])
      ).rows[0]?.changes_applied ?? 0,
    );
  /** Consumes until the capture has applied `expected` changes (or 60 s passed). */
  const catchUp = async (expected: number) => {
    const until = Date.now() + 60_000;
    while ((await applied()) < expected && Date.now() < until)
      await runCapture(db.warehouse, capture, { durationMs: 700, maxBatchWaitMs: 100, maxBatchChanges: 1500 });
    expect(await applied()).toBe(expected);
  };

  it('an incremental sync before the capture is started names the command to run', async () => {
    await expect(sync('users')).rejects.toThrow(/learnsync cdc start app_db/);
  });

  it('> 10,000 random changes: BigQuery equals the source after every round, every change logged once', async () => {
    expect((await startCapture(db.warehouse, db.oltp, capture)).created).toBe(true);
    for (const t of Object.keys(COMPARED)) {
      const first = await sync(t); // the fresh slot's marker: a full read, after the slot exists
      expect(first.detail?.changeSeq).toBeGreaterThan(0);
      expect(await bigquerySide(t)).toBe(await sourceSide(t));
    }
    const random = prng(1818);
    const pick = (xs: number[]) => xs[Math.floor(random() * xs.length)]!;
    let changes = 0;
    let nextUser = 100_000;
    let nextChat = 100_000;
    for (let round = 0; round < 5; round++) {
      const users = (await db.oltp.query<{ id: string }>('SELECT id FROM users')).rows.map((r) => Number(r.id));
      const chats = (await db.oltp.query<{ id: string }>('SELECT id FROM chat_history')).rows.map((r) => Number(r.id));
      const client = await db.oltp.connect();
      try {
        for (let txn = 0; txn < 44; txn++) {
          await client.query('BEGIN');
          for (let i = 0; i < 50; i++) {
            const r = random();
            const q = async (sql: string, params: unknown[]) => {
              changes += (await client.query(sql, params)).rowCount ?? 0;
            };
            if (r < 0.25) {
              // an update leaving updated_at alone, often several of one row between syncs
              await q('UPDATE users SET first_name = $1 WHERE id = $2', [
                `n${round}-${txn}-${i}`,
                i % 3 ? pick(users) : users[0],
              ]);
            } else if (r < 0.33) {
              const id = pick(users);
              const gone = (await client.query('DELETE FROM users WHERE id = $1', [id])).rowCount ?? 0;
              changes += gone;
              if (gone && random() < 0.5)
                await q(
                  `INSERT INTO users VALUES ($1, $2, 'Again', $3, '2020-01-01', '2020-01-01')
                   ON CONFLICT (id) DO NOTHING`,
                  [id, `again-${id}-${round}-${txn}-${i}@example.org`, `r${round}`],
                );
            } else if (r < 0.36) {
              // the key itself changes
              await q('UPDATE users SET id = $1 WHERE id = $2', [nextUser++, pick(users)]);
            } else if (r < 0.45) {
              await q(`INSERT INTO users VALUES ($1, $2, 'New', 'Old', '2019-01-01', '2019-01-01')`, [
                nextUser,
                `new-${nextUser++}@example.org`,
              ]);
            } else if (r < 0.7) {
              await q('UPDATE chat_history SET content = $1 WHERE id = $2', [
                `edited ${round}-${txn}-${i}`,
                pick(chats),
              ]);
            } else if (r < 0.8) {
              await q('DELETE FROM chat_history WHERE id = $1', [pick(chats)]);
            } else {
              await q(`INSERT INTO chat_history VALUES ($1, 1, 'user', $2, '2026-01-01')`, [
                nextChat++,
                `new ${round}`,
              ]);
            }
          }
          await client.query('COMMIT');
        }
        if (round === 3) {
          await client.query('TRUNCATE chat_history');
          changes += 1; // one truncate message
          await client.query(`INSERT INTO chat_history SELECT g, 2, 'assistant', 'after ' || g, '2026-02-01'
            FROM generate_series(1, 300) g`);
          changes += 300;
        }
      } finally {
        client.release();
      }
      if (round === 1) {
        // a consumer stopped mid-stream: what it committed stays, the rest comes again
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 150);
        await runCapture(db.warehouse, capture, { durationMs: 5000, maxBatchChanges: 200, signal: abort.signal });
      }
      await catchUp(changes);
      for (const t of Object.keys(COMPARED)) {
        const r = await sync(t);
        if (round === 3 && t === 'chat_history') expect(r.detail?.reset).toMatch(/truncated/);
        expect(await bigquerySide(t), `${t} after round ${round}`).toBe(await sourceSide(t));
      }
    }
    expect(changes).toBeGreaterThanOrEqual(10_000);
    // Trimmed up to the committed position at the next sync.
    await sync('users');
    const left = await db.warehouse.query(
      "SELECT COUNT(*)::int AS n FROM app_db_change_log WHERE source = $1 AND table_name = 'users'",
      [APP_DB_CAPTURE_SOURCE],
    );
    expect(left.rows[0].n).toBe(0);
  });
});
