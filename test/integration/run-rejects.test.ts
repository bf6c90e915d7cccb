// GET /api/runs/:workflowId/rejects on a real server and warehouse: rejects written inside ledgered
// jobs run as activities (MockActivityEnvironment with a workflow id) are tagged with their run,
// rejects written outside a job transaction are found through the run's jobs and dates, and the
// route answers only admin tokens (raw values are personal data).
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { runLedgeredJob } from '../../src/runtime/ledger/job-runner.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken } from '../../src/server/tokens.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let server: RunningServer;
let admin: string;
let reader: string;

async function jobWithRejects(workflowId: string, jobName: string, rejects: Array<[string, object]>) {
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId, runId: `${workflowId}-run` },
  } as never);
  await env.run(() =>
    runLedgeredJob(db.warehouse, { jobName, pipeline: 'test', targetDate: '2026-01-01' }, async (tx) => {
      for (const [reason, raw] of rejects)
        await tx.query(
          `INSERT INTO etl_rejects (job_name, target_date, reason, raw) VALUES ($1, '2026-01-01', $2, $3)`,
          [jobName, reason, JSON.stringify(raw)],
        );
      return { processed: rejects.length + 1, inserted: 1, rejected: rejects.length };
    }),
  );
}

beforeAll(async () => {
  db = await createTestDatabases();
  server = await startServer(
    {
      config: loadConfig({}),
      logger: createLogger({ level: 'silent' }),
      warehouse: db.warehouse,
      temporal: () => Promise.reject(new Error('no Temporal in this test')),
      plugins: [],
    },
    { host: '127.0.0.1', port: 0 },
  );
  admin = (await createToken(db.warehouse, 'ops', 'admin')).token;
  reader = (await createToken(db.warehouse, 'viewer', 'read')).token;
  await jobWithRejects('wf-rejects-a', 'job_a', [
    ['email: not an e-mail: "x@"', { email: 'x@', id: 1 }],
    ['email: not an e-mail: "y@"', { email: 'y@', id: 2 }],
  ]);
  await jobWithRejects('wf-rejects-b', 'job_b', [['score: not a number: "abc"', { score: 'abc' }]]);
  // Written outside any job transaction (as the Kusto window loads do): found through job_a's run and date.
  await db.warehouse.query(
    `INSERT INTO etl_rejects (job_name, target_date, reason, raw) VALUES ('job_a', '2026-01-01', 'late: window', '{}')`,
  );
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

const get = async (path: string, token?: string) => {
  const res = await fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('GET /api/runs/:workflowId/rejects', () => {
  it('needs an admin token', async () => {
    expect((await get('/api/runs/wf-rejects-a/rejects')).status).toBe(401);
    expect((await get('/api/runs/wf-rejects-a/rejects', reader)).status).toBe(403);
    expect((await get('/api/runs/wf-rejects-a/rejects', admin)).status).toBe(200);
  });

  it("shows a run's rejects: counts per job and reason, and sample rows with their raw values", async () => {
    const { body } = await get('/api/runs/wf-rejects-a/rejects', admin);
    expect(body).toMatchObject({
      workflowId: 'wf-rejects-a',
      total: 3,
      reasons: [
        { job: 'job_a', reason: 'email: not an e-mail: "…"', count: 2 },
        { job: 'job_a', reason: 'late: window', count: 1 },
      ],
    });
    const samples = body.samples as Array<{ job: string; reason: string; raw: Record<string, unknown> }>;
    expect(samples.map((s) => s.raw)).toEqual([{ email: 'x@', id: 1 }, { email: 'y@', id: 2 }, {}]);
    const { rows } = await db.warehouse.query(`SELECT workflow_id FROM etl_rejects WHERE job_name = 'job_b'`);
    expect(rows).toEqual([{ workflow_id: 'wf-rejects-b' }]);
    expect((await get('/api/runs/wf-rejects-b/rejects', admin)).body).toMatchObject({ total: 1 });
    expect((await get('/api/runs/wf-rejects-a/rejects?job=job_b', admin)).body).toMatchObject({ total: 0 });
    const limited = await get('/api/runs/wf-rejects-a/rejects?limit=1', admin);
    expect(limited.body).toMatchObject({ total: 3 });
    expect(limited.body.samples).toHaveLength(1);
  });

  it('answers 404 for a run it has no job of, and 400 for bad input', async () => {
    expect((await get('/api/runs/wf-unknown/rejects', admin)).status).toBe(404);
    expect((await get('/api/runs/wf-rejects-a/rejects?limit=100000', admin)).status).toBe(400);
    expect((await get('/api/runs/wf-rejects-a/rejects?job=x%27%3B', admin)).status).toBe(400);
  });
});
