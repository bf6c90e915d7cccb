// The learnsync worker: one connection, the workflow bundle, every activity built from its
// dependencies, and a graceful shutdown on SIGINT/SIGTERM (running activities get
// WORKER_SHUTDOWN_GRACE_SECONDS to finish; unfinished ones are retried elsewhere).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { createWorker, temporalSecurity } from './runtime/worker-options.js';
import { closeActivityDeps, createActivityDeps } from './stack/activity-deps.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level, name: 'learnsync-worker' });
  if (!config.temporal.address || !config.postgres.warehouseUrl || !config.postgres.oltpUrl) {
    throw new Error(
      'the standalone worker needs TEMPORAL_ADDRESS and WAREHOUSE_DATABASE_URL (or DATABASE_URL); `learnsync dev` ' +
        'runs a local stack with its own worker',
    );
  }
  const connection = await NativeConnection.connect({ address: config.temporal.address, ...temporalSecurity(config) });
  const urls = { warehouseUrl: config.postgres.warehouseUrl, oltpUrl: config.postgres.oltpUrl };
  const deps = await createActivityDeps(config, urls, logger);
  const worker = await createWorker(config, connection, createActivities(deps));
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
