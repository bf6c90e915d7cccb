// The README's examples are tests: every shell block that starts with `npm run`, `learnsync` or
// `temporal` runs here, as a user would type it, against a local stack (a dev server, the real
// worker on the default task queue, Postgres) and must exit 0 or its documented code. The local
// dev server's default address in a block is this test's server; `learnsync` is the project's bin.
// Afterwards every backfill the README started — from learnsync or from the temporal CLI — must
// have ended with LearnsyncStatus = SUCCESS.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import type { TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { STATUS_KEY } from '../../src/workflows/search-attributes.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { readmeShellBlocks } from '../support/readme-blocks.js';
import { bundledWorkerOptions, projectRoot, startDevServer, Worker } from '../support/temporal.js';

const blocks = readmeShellBlocks(path.join(projectRoot, 'README.md'));
let server: TemporalHandle;
let db: TestDatabases;
let connection: Connection;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [server, db] = await Promise.all([startDevServer(), createTestDatabases()]);
  await seedSampleSource(db.oltp, { from: '2026-01-10', to: '2026-01-20', examsPerDay: 30, users: 40 });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  const config = loadConfig({});
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: config.temporal.taskQueue, // the default queue, as in `learnsync dev`
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: mkdtempSync(path.join(tmpdir(), 'readme-out-')),
      logger: createLogger({ level: 'silent' }),
      config,
      sources: createSourceClients(config),
    }),
    ...bundledWorkerOptions(),
  });
  workerRun = worker.run();
  // `learnsync` as `npm link` would put it on PATH.
  const bin = mkdtempSync(path.join(tmpdir(), 'readme-bin-'));
  writeFileSync(
    path.join(bin, 'learnsync'),
    `#!/bin/sh\nexec "${process.execPath}" "${path.join(projectRoot, 'bin/learnsync.js')}" "$@"\n`,
  );
  chmodSync(path.join(bin, 'learnsync'), 0o755);
  env = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: undefined,
    WAREHOUSE_DATABASE_URL: db.warehouseUrl,
    OLTP_DATABASE_URL: db.oltpUrl,
    LOG_LEVEL: 'error',
  };
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await connection?.close();
  await db?.close();
  await server?.stop();
});

function sh(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: projectRoot, env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

it('the README has runnable examples, and marks the rest as illustrative', () => {
  expect(blocks.filter((b) => !b.illustrative).length).toBeGreaterThanOrEqual(6);
  for (const b of blocks.filter((x) => x.illustrative)) expect(b.script).toMatch(/npm run demo|npm test|learnsync dev/);
});

describe('README examples run as printed', () => {
  for (const block of blocks.filter((b) => !b.illustrative)) {
    it(`README.md:${block.line} ${block.script.split('\n')[0]}`, async () => {
      const script = block.script.replaceAll('127.0.0.1:7233', server.address);
      const { code, output } = await sh(script);
      expect({ code, output }).toMatchObject({ code: block.expectedExit });
    }, 240_000);
  }
});

it('every backfill the README started ended with LearnsyncStatus = SUCCESS', async () => {
  const parents = [];
  for await (const wf of client.workflow.list({ query: 'WorkflowType = "backfillPipeline"' }))
    parents.push(wf.workflowId);
  expect(parents.length).toBeGreaterThanOrEqual(2); // one from learnsync, one from the temporal CLI
  for (const id of parents) {
    const handle = client.workflow.getHandle(id);
    await handle.result();
    const { typedSearchAttributes } = await handle.describe();
    expect({ id, status: typedSearchAttributes.get(STATUS_KEY) }).toEqual({ id, status: 'SUCCESS' });
  }
}, 240_000);
