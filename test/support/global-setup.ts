// Once per test run: one throwaway embedded Postgres (each test file gets its own databases in
// it) and one prebuilt workflow bundle (so no worker re-runs webpack).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type PostgresHandle } from '../../src/stack/embedded-postgres.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';

const root = path.resolve(import.meta.dirname, '../..');
let pgHandle: PostgresHandle | undefined;
let pgDir: string | undefined;

export async function setup(project: TestProject) {
  const port = await freePort();
  pgDir = path.join(root, '.data', `test-pg-${process.pid}`);
  await rm(pgDir, { recursive: true, force: true });
  const bundlePath = path.join(root, '.data', `test-workflow-bundle-${process.pid}.js`);
  const [pgStarted, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: pgDir, port, databases: [], ephemeral: true }),
    bundleWorkflowCode({ workflowsPath: path.join(root, 'src/workflows/index.ts'), logger: quietLogger }),
  ]);
  pgHandle = pgStarted;
  await mkdir(path.dirname(bundlePath), { recursive: true });
  await writeFile(bundlePath, bundle.code);
  project.provide('pgPort', port);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown() {
  await pgHandle?.stop();
  await rm(path.join(root, '.data', `test-workflow-bundle-${process.pid}.js`), { force: true });
  if (pgDir) await rm(pgDir, { recursive: true, force: true });
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

declare module 'vitest' {
  export interface ProvidedContext {
    pgPort: number;
    workflowBundlePath: string;
  }
}
