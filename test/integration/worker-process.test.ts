// The standalone worker as a process, as deploy/ runs it: prebuilt bundle, real Temporal and
// Postgres, a run served, then SIGTERM → drained and exit 0.
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import type { TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { projectRoot, startDevServer } from '../support/temporal.js';

let server: TemporalHandle;
let db: TestDatabases;
beforeAll(async () => {
  [server, db] = await Promise.all([startDevServer(), createTestDatabases({ migrate: false })]);
  await seedSampleSource(db.oltp, { from: '2026-06-01', to: '2026-06-01', examsPerDay: 30, users: 50 });
});
afterAll(async () => {
  await db?.close();
  await server?.stop();
});

it('serves runs from the prebuilt bundle, migrates the warehouse, and drains on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: 'worker-process',
      WAREHOUSE_DATABASE_URL: db.warehouseUrl,
      OLTP_DATABASE_URL: db.oltpUrl,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    for (let i = 0; i < 200 && !output.includes('worker started'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('worker started');
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const result = await client.workflow.execute(runPipeline, {
      taskQueue: 'worker-process',
      workflowId: 'worker-process-run',
      args: [{ pipeline: 'learning-sample', targetDate: '2026-06-01' }],
    });
    await connection.close();
    expect(result.status).toBe('SUCCESS');
    expect(result.nodes.find((n) => n.id === 'extract_exam_results')?.rows).toBe(30);
    // The worker applied the migrations itself.
    const { rows } = await db.warehouse.query(`SELECT count(*)::int AS n FROM etl_job_runs WHERE status = 'SUCCESS'`);
    expect(rows[0].n).toBe(5);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('worker stopped');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
