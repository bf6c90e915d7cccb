// The run ledger against a real Postgres: skip-if-done, force, failure rollback, abandoned runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgeredJob } from '../../src/runtime/ledger/job-runner.js';
import { ConfigError } from '../../src/errors.js';
import { MIGRATIONS, migrate } from '../../src/warehouse/migrate.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
  await db.warehouse.query('CREATE TABLE t (target_date date, v int)');
});
afterAll(async () => {
  await db?.close();
});

const runs = async (job: string) =>
  (
    await db.warehouse.query(
      `SELECT status, rows_processed, rows_inserted, error_message FROM etl_job_runs WHERE job_name = $1
        ORDER BY started_at, status`,
      [job],
    )
  ).rows;

describe('runLedgeredJob', () => {
  it('commits the data with a SUCCESS row, then skips the same target unless forced', async () => {
    const work = async (tx: import('pg').PoolClient) => {
      await tx.query(`DELETE FROM t WHERE target_date = '2026-01-01'`);
      const r = await tx.query(`INSERT INTO t SELECT '2026-01-01', g FROM generate_series(1, 25) g`);
      return { processed: 25, inserted: r.rowCount ?? 0 };
    };
    const spec = { jobName: 'job_a', targetDate: '2026-01-01' };
    expect(await runLedgeredJob(db.warehouse, spec, work)).toMatchObject({ rows: 25, inserted: 25 });
    expect(await runLedgeredJob(db.warehouse, spec, work)).toEqual({ rows: 0, skipped: true });
    expect(await runLedgeredJob(db.warehouse, { ...spec, force: true }, work)).toMatchObject({ rows: 25 });
    expect((await runs('job_a')).map((r) => r.status)).toEqual(['SUCCESS', 'SKIPPED', 'SUCCESS']);
    expect(
      (await db.warehouse.query(`SELECT count(*)::int AS n FROM t WHERE target_date = '2026-01-01'`)).rows[0].n,
    ).toBe(25);
  });

  it('rolls back a failed job’s writes and records FAILED with the error', async () => {
    await expect(
      runLedgeredJob(db.warehouse, { jobName: 'job_b', targetDate: '2026-01-02' }, async (tx) => {
        await tx.query(`INSERT INTO t VALUES ('2026-01-02', 1)`);
        throw new Error('source went away');
      }),
    ).rejects.toThrow('source went away');
    expect(await runs('job_b')).toEqual([
      { status: 'FAILED', rows_processed: 0, rows_inserted: 0, error_message: 'source went away' },
    ]);
    expect(
      (await db.warehouse.query(`SELECT count(*)::int AS n FROM t WHERE target_date = '2026-01-02'`)).rows[0].n,
    ).toBe(0);
  });

  it('turns SQL that does not match the schema into a non-retryable ConfigError', async () => {
    const err = await runLedgeredJob(db.warehouse, { jobName: 'job_c', targetDate: '2026-01-03' }, async (tx) => {
      await tx.query('SELECT no_such_column FROM t');
      return { processed: 0 };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/no_such_column.*SQLSTATE 42703/);
  });

  it('marks a RUNNING row left by a dead attempt as abandoned when the job runs again', async () => {
    await db.warehouse.query(
      `INSERT INTO etl_job_runs (id, job_name, target_date, status)
        VALUES (gen_random_uuid(), 'job_d', '2026-01-04', 'RUNNING')`,
    );
    await runLedgeredJob(db.warehouse, { jobName: 'job_d', targetDate: '2026-01-04' }, async () => ({ processed: 3 }));
    const rows = await runs('job_d');
    expect(rows.map((r) => r.status).sort()).toEqual(['FAILED', 'SUCCESS']);
    expect(rows.find((r) => r.status === 'FAILED')!.error_message).toMatch(/abandoned/);
  });

  it('runs incremental jobs (no target date) every time', async () => {
    for (let i = 0; i < 2; i++)
      await runLedgeredJob(db.warehouse, { jobName: 'job_e' }, async () => ({ processed: 1 }));
    expect((await runs('job_e')).map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it('serialises concurrent runs of the same job and date: one succeeds, the other skips', async () => {
    const work = async (tx: import('pg').PoolClient) => {
      await tx.query('SELECT pg_sleep(0.2)');
      return { processed: 1 };
    };
    const results = await Promise.all([
      runLedgeredJob(db.warehouse, { jobName: 'job_f', targetDate: '2026-01-05' }, work),
      runLedgeredJob(db.warehouse, { jobName: 'job_f', targetDate: '2026-01-05' }, work),
    ]);
    expect(results.map((r) => r.skipped ?? false).sort()).toEqual([false, true]);
  });
});

describe('migrate', () => {
  it('applies each migration once, in order, and records it', async () => {
    expect(await migrate(db.warehouse)).toEqual([]);
    const { rows } = await db.warehouse.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await expect(migrate(db.warehouse, edited)).rejects.toThrow(/migration 1 \(ledger\) changed after it was applied/);
    await expect(migrate(db.warehouse, edited)).rejects.toBeInstanceOf(ConfigError);
  });
});
