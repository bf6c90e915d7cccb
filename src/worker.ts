// The learnsync worker: one connection, the workflow bundle, every activity built from its
// dependencies, and a graceful shutdown on SIGINT/SIGTERM (running activities get
// WORKER_SHUTDOWN_GRACE_SECONDS to finish; unfinished ones are retried elsewhere).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import type { ActivityDeps } from './runtime/deps.js';
import { loadConfig, type Config } from './config.js';
import { createPool } from './connectors/postgres.js';
import { createLogger } from './logging.js';
import { migrate } from './warehouse/migrate.js';
import { activityTimingInterceptor } from './runtime/activity-timing.js';

/** TLS and API key for servers that require them (Temporal Cloud); nothing for the local dev server. */
export function temporalSecurity(config: Config): { tls?: boolean; apiKey?: string } {
  return { ...(config.temporal.tls && { tls: true }), ...(config.temporal.apiKey && { apiKey: config.temporal.apiKey }) };
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
export const DEFAULT_BUNDLE_PATH = (config: Config) => path.join(config.projectRoot, 'dist', 'workflow-bundle.js');

export async function createActivityDeps(config: Config, urls: { warehouseUrl: string; oltpUrl: string }, logger: Logger): Promise<ActivityDeps> {
  const warehouse = createPool(urls.warehouseUrl, { max: config.worker.maxConcurrentActivities + 2, applicationName: 'learnsync-worker' });
  const oltp = createPool(urls.oltpUrl, { max: config.worker.maxConcurrentActivities + 2, applicationName: 'learnsync-worker' });
  await migrate(warehouse);
  return { warehouse, oltp, outputDir: config.outputDir, logger, config };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  await Promise.all([deps.warehouse.end(), deps.oltp.end()]);
}

/** Production uses the prebuilt bundle (`npm run build:bundle`); development bundles from source. */
export function workflowSource(config: Config): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = config.worker.bundlePath ?? DEFAULT_BUNDLE_PATH(config);
  if (config.worker.bundlePath || (process.env.NODE_ENV === 'production' && existsSync(bundle))) {
    if (!existsSync(bundle)) throw new Error(`WORKFLOW_BUNDLE_PATH ${bundle} does not exist: run \`npm run build:bundle\``);
    return { workflowBundle: { codePath: bundle } };
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

/**
 * Latency settings measured by bench/orchestration.ts: a wave of ready nodes goes out with the
 * workflow task's completion (eager activity dispatch, up to the free activity slots) instead of a
 * round-trip through the task queue, and every activity result carries its own execution time.
 */
export function workerTuning(config: Config): Partial<WorkerOptions> {
  return {
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxEagerActivityReservationsPerWorkflowTask: config.worker.maxConcurrentActivities,
    interceptors: { activity: [activityTimingInterceptor] },
  };
}

export async function createWorker(config: Config, connection: NativeConnection, deps: ActivityDeps): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    ...workerTuning(config),
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds}s`,
    ...workflowSource(config),
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'learnsync-worker' });
  if (!config.temporal.address || !config.postgres.warehouseUrl || !config.postgres.oltpUrl) {
    throw new Error('the standalone worker needs TEMPORAL_ADDRESS and WAREHOUSE_DATABASE_URL (or DATABASE_URL); `learnsync dev` runs a local stack with its own worker');
  }
  const connection = await NativeConnection.connect({ address: config.temporal.address, ...temporalSecurity(config) });
  const deps = await createActivityDeps(config, { warehouseUrl: config.postgres.warehouseUrl, oltpUrl: config.postgres.oltpUrl }, logger);
  const worker = await createWorker(config, connection, deps);
  logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker started');
  // Worker.run() resolves once SIGINT/SIGTERM (the SDK's default shutdownSignals) have drained it.
  await worker.run();
  await closeActivityDeps(deps);
  await connection.close();
  logger.info('worker stopped');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`learnsync worker: ${(err as Error).message}`);
    process.exit(1);
  });
}
