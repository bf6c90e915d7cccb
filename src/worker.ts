// The learnsync worker: one connection, the workflow bundle, every activity built from its
// dependencies, and a graceful shutdown on SIGINT/SIGTERM (running activities get
// WORKER_SHUTDOWN_GRACE_SECONDS to finish; unfinished ones are retried elsewhere).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { createWorker, temporalSecurity } from './runtime/worker-options.js';
import { sdkMetricsTelemetry, startWorkerMetricsServer } from './runtime/worker-metrics.js';
import { closeActivityDeps, createActivityDeps } from './stack/activity-deps.js';
import { lineageOfInput } from './stack/lineage.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'learnsync-worker' });
  if (!config.temporal.address || !config.postgres.warehouseUrl || !config.postgres.oltpUrl) {
    throw new Error(
      'the standalone worker needs TEMPORAL_ADDRESS and WAREHOUSE_DATABASE_URL (or DATABASE_URL); `learnsync dev` ' +
        'runs a local stack with its own worker',
    );
  }
  const metricsPort = config.serve.workerMetricsPort;
  // The SDK's Prometheus exporter must be part of the runtime before the first connection.
  if (metricsPort !== undefined) Runtime.install({ telemetryOptions: await sdkMetricsTelemetry() });
  const metrics =
    metricsPort !== undefined ? await startWorkerMetricsServer(config.serve.workerMetricsHost, metricsPort) : undefined;
  const connection = await connectWithRetry(config.temporal.address, temporalSecurity(config), logger);
  const urls = { warehouseUrl: config.postgres.warehouseUrl, oltpUrl: config.postgres.oltpUrl };
  const deps = await createActivityDeps(config, urls, logger);
  const worker = await createWorker(config, connection, createActivities(deps), lineageOfInput);
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
      buildId: config.worker.buildId,
      metrics: metrics?.url,
    },
    'worker started',
  );
  // Worker.run() resolves once SIGINT/SIGTERM (the SDK's default shutdownSignals) have drained it.
  await worker.run();
  await closeActivityDeps(deps);
  await connection.close();
  await metrics?.close();
  logger.info('worker stopped');
}

/** A worker started while Temporal is briefly down (a restart, a deploy) waits for it instead of exiting. */
async function connectWithRetry(
  address: string,
  security: ReturnType<typeof temporalSecurity>,
  logger: ReturnType<typeof createLogger>,
  giveUpAfterMs = CONNECT_RETRY_MS,
): Promise<NativeConnection> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await NativeConnection.connect({ address, ...security });
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      logger.warn({ address, err: (err as Error).message }, 'Temporal is not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

const CONNECT_RETRY_MS = 5 * 60_000;

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`learnsync worker: ${(err as Error).message}`);
    process.exit(1);
  });
}
