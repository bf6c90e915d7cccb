import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { temporalCliPath, temporalTestServerPath } from '../../src/stack/tools.js';
import { freePort, startTemporalDevServer, type TemporalHandle } from '../../src/stack/temporal-dev-server.js';

export const projectRoot = path.resolve(import.meta.dirname, '../..');

let runtimeInstalled = false;
/** Workers log only warnings in tests. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Failed workflows are expected in tests; the core's server-version warnings are noise.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
}

/** The time-skipping test server, from the binary scripts/provision.sh installed (no download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath(projectRoot) } },
  });
}

/** A real `temporal server start-dev`, in memory, on free ports: for schedules and search attributes. */
export async function startDevServer(): Promise<TemporalHandle> {
  quietRuntime();
  return startTemporalDevServer({
    cliPath: temporalCliPath(projectRoot),
    port: await freePort(),
    uiPort: await freePort(),
  });
}

/** Worker options that use the bundle global-setup built once. */
export function bundledWorkerOptions(): Pick<WorkerOptions, 'workflowBundle'> {
  return { workflowBundle: { codePath: inject('workflowBundlePath') } };
}

export { Worker };
