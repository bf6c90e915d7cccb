// The admin API plugin on a real Fastify server, triggering real workflows in the time-skipping
// Temporal test server. No worker polls the trigger queue, so a started sync stays RUNNING: that
// is what lets a second trigger be refused.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Fastify, { type FastifyInstance, type preHandlerHookHandler } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MANUAL_SYNC_WORKFLOW_ID,
  registerAppDbAdminRoutes,
  TABLES_SYNC_WORKFLOW_ID,
  temporalSyncTriggers,
} from '../../../src/pipelines/app-db/admin-routes.js';
import { readAppDbStatus } from '../../../src/pipelines/app-db/status.js';
import { APP_DB_TABLES } from '../../../src/pipelines/app-db/definition.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { createTimeSkippingEnv } from '../../support/temporal.js';
import { loadConfig } from '../../../src/config.js';
import { appDbAdminPlugin } from '../../../src/server/app-db-admin.js';

const TOKEN = 'test-admin-token-7f3a9c';
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** What `learnsync serve` does for real: bearer token compared, in constant time, to a stored SHA-256. */
function bearerAuth(storedHash: Buffer): preHandlerHookHandler {
  return (req, reply, done) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(sha256(m[1]!), storedHash)) {
      void reply.code(401).send({ error: 'a valid bearer token is required' });
      return;
    }
    done();
  };
}

describe('app-db admin API', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabases;
  let app: FastifyInstance;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
    await db.warehouse.query(
      `INSERT INTO bq_sync_tracking (dataset, table_name, mode, last_synced_row_id, last_sync_at,
        last_rows_appended) VALUES ('p.app_db', 'chat_history', 'append', 42, now(), 42)`,
    );
    app = Fastify({ logger: false });
    await registerAppDbAdminRoutes(app, {
      preHandler: bearerAuth(sha256(TOKEN)),
      triggers: temporalSyncTriggers(env.client, 'app-db-admin-test-no-worker'),
      readStatus: () => readAppDbStatus(db.warehouse, 'p.app_db'),
      privacy: { secretColumns: { org_api_keys: ['key'] }, dropColumns: {} },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await env?.teardown();
  });

  const endpoints: Array<{ method: 'GET' | 'POST'; url: string; payload?: string[] }> = [
    { method: 'GET', url: '/admin/bigquery/sync/status' },
    { method: 'POST', url: '/admin/bigquery/sync/manual' },
    { method: 'POST', url: '/admin/bigquery/sync/tables', payload: ['users'] },
    { method: 'GET', url: '/admin/bigquery/tables' },
  ];

  it('refuses every endpoint without a token or with a wrong one', async () => {
    for (const e of endpoints) {
      expect((await app.inject({ ...e })).statusCode, `${e.method} ${e.url}`).toBe(401);
      expect(
        (await app.inject({ ...e, headers: { authorization: 'Bearer wrong' } })).statusCode,
        `${e.method} ${e.url}`,
      ).toBe(401);
    }
    const d = await temporalSyncTriggers(env.client, 'x').describe(MANUAL_SYNC_WORKFLOW_ID);
    expect(d).toBeUndefined(); // nothing was started by the refused calls
  });

  it('lists the configured tables', async () => {
    const r = await app.inject({ method: 'GET', url: '/admin/bigquery/tables', headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { tables: Array<{ name: string; mode: string; secretColumns: string[] }> };
    expect(body.tables.map((t) => t.name)).toEqual(APP_DB_TABLES.map((t) => t.name));
    expect(body.tables.find((t) => t.name === 'org_api_keys')!.secretColumns).toEqual(['key']);
  });

  it('starts one manual sync and refuses a duplicate while it runs', async () => {
    const first = await app.inject({ method: 'POST', url: '/admin/bigquery/sync/manual', headers: auth });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ started: true, workflowId: MANUAL_SYNC_WORKFLOW_ID });
    const runId = (first.json() as { runId: string }).runId;
    const d = await env.client.workflow.getHandle(MANUAL_SYNC_WORKFLOW_ID).describe();
    expect(d.status.name).toBe('RUNNING');
    expect(d.type).toBe('runPipeline');
    const second = await app.inject({ method: 'POST', url: '/admin/bigquery/sync/manual', headers: auth });
    expect(second.statusCode).toBe(409);
    // The serve API's common error shape, with the request id and the run already going.
    expect(second.json()).toEqual({
      error: {
        code: 'already_running',
        message: expect.stringMatching(/already running/),
        requestId: second.headers['x-request-id'] ?? expect.any(String),
        workflowId: MANUAL_SYNC_WORKFLOW_ID,
        runId,
      },
    });
  });

  it('refuses unknown body properties on the manual trigger, in the common error shape', async () => {
    for (const payload of [{ force: false }, { tables: ['users'], dryRun: true }, ['users']]) {
      const r = await app.inject({
        method: 'POST',
        url: '/admin/bigquery/sync/manual',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      const body = r.json() as { error: { code: string; message: string; requestId: string; unknown?: string[] } };
      expect(body.error.code).toBe('bad_request');
      expect(body.error.requestId).toEqual(expect.any(String));
      expect(body.error.requestId.length).toBeGreaterThan(0);
      if (!Array.isArray(payload)) expect(body.error.unknown).toEqual(Object.keys(payload));
    }
  });

  it('syncs named tables, and names the unknown ones in a 400', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/admin/bigquery/sync/tables',
      headers: auth,
      payload: ['users', 'no_such_table', 'passwords'],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: { code: 'bad_request', requestId: expect.any(String), unknown: ['no_such_table', 'passwords'] },
    });
    expect((bad.json() as { error: { message: string } }).error.message).toMatch(/no_such_table.*passwords/);
    for (const payload of ['users', {}, [], [1, 2]]) {
      const r = await app.inject({
        method: 'POST',
        url: '/admin/bigquery/sync/tables',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect((r.json() as { error: { code: string } }).error.code).toBe('bad_request');
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/admin/bigquery/sync/tables',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '["users"',
    });
    expect(notJson.statusCode).toBe(400);
    expect(await temporalSyncTriggers(env.client, 'x').describe(TABLES_SYNC_WORKFLOW_ID)).toBeUndefined();

    const ok = await app.inject({
      method: 'POST',
      url: '/admin/bigquery/sync/tables',
      headers: auth,
      payload: ['users', 'chat_history'],
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({
      started: true,
      workflowId: TABLES_SYNC_WORKFLOW_ID,
      tables: ['users', 'chat_history'],
    });
    const again = await app.inject({
      method: 'POST',
      url: '/admin/bigquery/sync/tables',
      headers: auth,
      payload: ['organizations'],
    });
    expect(again.statusCode).toBe(409);
  });

  it('reports per-table status and the running syncs', async () => {
    const r = await app.inject({ method: 'GET', url: '/admin/bigquery/sync/status', headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json() as {
      tables: Array<{ table: string; lastRowId: number | null; rows: { appended: number } }>;
      runs: { manual: { status: string } };
    };
    expect(body.tables).toHaveLength(APP_DB_TABLES.length);
    expect(body.tables.find((t) => t.table === 'chat_history')).toMatchObject({
      lastRowId: 42,
      rows: { appended: 42 },
    });
    expect(body.tables.find((t) => t.table === 'users')).toMatchObject({ lastRowId: null });
    expect(body.runs.manual.status).toBe('RUNNING');
  });

  it('as mounted by serve, finds the tracking rows under project.dataset', async () => {
    await db.warehouse.query(
      `INSERT INTO bq_sync_tracking (dataset, table_name, mode, last_synced_row_id, last_sync_at)
        VALUES ('learnsync-admin.app_db', 'chat_history', 'append', 42, now())`,
    );
    const config = loadConfig({ BIGQUERY_PROJECT: 'learnsync-admin', BIGQUERY_DATASET: 'app_db', LOG_LEVEL: 'silent' });
    const mounted = appDbAdminPlugin({ config, warehouse: db.warehouse, temporal: async () => env.client });
    const served = Fastify({ logger: false });
    await served.register(mounted.plugin, { preHandler: async () => {} });
    await served.ready();
    try {
      const r = await served.inject({ method: 'GET', url: '/admin/bigquery/sync/status' });
      expect(r.statusCode).toBe(200);
      const tables = (r.json() as { tables: Array<{ table: string; lastRowId: number | null; lastSyncAt: string }> })
        .tables;
      expect(tables.find((t) => t.table === 'chat_history')).toMatchObject({
        lastRowId: 42,
        lastSyncAt: expect.any(String),
      });
    } finally {
      await served.close();
    }
  });
});
