// Shared by the app-db tests: the real bqemulator (started per test file; tests skip with a clear
// message only when it is not provisioned), a sample SQLite app database in a temp folder, the
// config and deps that point the family at both, and small BigQuery/SQLite helpers.
import { openSqlite, type SqliteDatabase } from '../../../src/connectors/sqlite-binding.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../../src/config.js';
import { runQuery, type BigQueryTarget } from '../../../src/connectors/bigquery/client.js';
import { createAppDbActivities } from '../../../src/pipelines/app-db/activities.js';
import { APP_DB_TABLES } from '../../../src/pipelines/app-db/definition.js';
import { generateSampleAppDb } from '../../../src/pipelines/app-db/sample/generate.js';
import type { AppDbDeps } from '../../../src/runtime/deps.js';
import type { NodeResult } from '../../../src/pipelines/types.js';
import { createAppDbDeps } from '../../../src/stack/app-db.js';
import {
  bigQueryEmulatorProvisioned,
  startBigQueryEmulator,
  type BigQueryEmulatorHandle,
} from '../../../src/stack/bigquery-emulator.js';
import type { TestDatabases } from '../../support/databases.js';
import { projectRoot } from '../../support/temporal.js';

export const quietLogger = pino({ level: 'silent' });
export const HASH_KEY = 'test-hash-key-0123456789abcdef';
export const PROJECT = 'learnsync-test';

export const emulatorAvailable = bigQueryEmulatorProvisioned(projectRoot);
if (!emulatorAvailable) {
  console.warn('app-db tests SKIPPED: bqemulator is not provisioned (.tools/bq-venv) — run `npm run setup`');
}

export async function startEmulator(): Promise<BigQueryEmulatorHandle> {
  return startBigQueryEmulator({ projectRoot, projectId: PROJECT });
}

export interface AppDbFixture {
  dir: string;
  sqlitePath: string;
  config: Config;
  deps: AppDbDeps;
  target: BigQueryTarget;
  activities: ReturnType<typeof createAppDbActivities>;
  /** Runs one table's node the way the worker would (no Temporal context). */
  sync(table: string, mode?: 'incremental' | 'full'): Promise<NodeResult>;
  /** Every table, one after the other; failures are returned, not thrown. */
  syncAll(mode?: 'incremental' | 'full'): Promise<Map<string, NodeResult | Error>>;
  app(): SqliteDatabase;
  close(): void;
}

let datasetCounter = 0;

export async function appDbFixture(
  db: TestDatabases,
  emulator: BigQueryEmulatorHandle,
  env: Record<string, string> = {},
  chatRows = 2000,
): Promise<AppDbFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'learnsync-appdb-'));
  const sqlitePath = path.join(dir, 'app.sqlite');
  generateSampleAppDb(sqlitePath, { chatRows });
  const dataset = `t${process.pid}_${++datasetCounter}`;
  const config = loadConfig({
    LEARNSYNC_DATA_DIR: dir,
    APP_DB_SQLITE_PATH: sqlitePath,
    APP_DB_HASH_KEY: HASH_KEY,
    BIGQUERY_PROJECT: PROJECT,
    BIGQUERY_API_ENDPOINT: emulator.apiEndpoint,
    BIGQUERY_DATASET: dataset,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const deps = createAppDbDeps(config, quietLogger);
  const target = await deps.target();
  const activities = createAppDbActivities({ warehouse: db.warehouse, logger: quietLogger, config, appDb: deps });
  const sync = (table: string, mode: 'incremental' | 'full' = 'incremental') =>
    activities.syncAppDbTable({
      pipeline: mode === 'full' ? 'app-db-full' : 'app-db-incremental',
      nodeId: `app_db_${mode}_${table}`,
      force: false,
      params: { table, mode },
    });
  const open: SqliteDatabase[] = [];
  return {
    dir,
    sqlitePath,
    config,
    deps,
    target,
    activities,
    sync,
    async syncAll(mode = 'incremental') {
      const out = new Map<string, NodeResult | Error>();
      for (const t of APP_DB_TABLES) out.set(t.name, await sync(t.name, mode).catch((e: Error) => e));
      return out;
    },
    app() {
      const d = openSqlite(sqlitePath);
      open.push(d);
      return d;
    },
    close() {
      for (const d of open) d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function bqRows<T = Record<string, unknown>>(
  t: BigQueryTarget,
  sql: string,
  params?: Record<string, unknown>,
): Promise<T[]> {
  const r = await runQuery<T>(t, sql.replaceAll('$DS', `\`${t.projectId}.${t.datasetId}\``), params);
  return r.rows;
}

export async function bqCount(t: BigQueryTarget, table: string): Promise<{ n: number; distinct: number }> {
  const [r] = await bqRows<{ n: number; d: number }>(
    t,
    `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM $DS.${table}`,
  );
  return { n: Number(r!.n), distinct: Number(r!.d) };
}

/** Every row of a BigQuery table ordered by id, as JSON: what "the same table" means in these tests. */
export async function bqSnapshot(t: BigQueryTarget, table: string): Promise<string> {
  const rows = await bqRows(t, `SELECT * FROM $DS.${table} ORDER BY id`);
  return JSON.stringify(rows, (_k, v: unknown) =>
    v && typeof v === 'object' && 'value' in (v as object) ? (v as { value: unknown }).value : v,
  );
}
