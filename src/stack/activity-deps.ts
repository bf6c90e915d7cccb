// Builds the activities' dependencies — the edge where sample mode is decided: warehouse and OLTP
// pools (the warehouse migrated) and the source clients, live or sample per source (source-clients.ts).
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createPool, throwawayDurability } from '../connectors/postgres.js';
import type { ActivityDeps } from '../runtime/deps.js';
import { migrate } from '../warehouse/migrate.js';
import { createAppDbDeps } from './app-db.js';
import { createSourceClients } from './source-clients.js';

export async function createActivityDeps(
  config: Config,
  urls: { warehouseUrl: string; oltpUrl: string },
  logger: Logger,
): Promise<ActivityDeps> {
  const poolSize = config.worker.maxConcurrentActivities + 2;
  const warehouse = createPool(urls.warehouseUrl, { max: poolSize, applicationName: 'learnsync-worker' });
  const oltp = createPool(urls.oltpUrl, { max: poolSize, applicationName: 'learnsync-worker' });
  await migrate(warehouse);
  const throwaway = await throwawayDurability(warehouse);
  if (throwaway)
    logger.warn(
      `the warehouse runs with ${throwaway}: a Postgres crash can lose commits it acknowledged, and with them ` +
        'jobs the ledger reports as SUCCESS (test/integration/commit-durability.test.ts measures it); ' +
        'use the defaults (fsync=on, synchronous_commit=on) for any warehouse whose data matters',
    );
  return {
    warehouse,
    oltp,
    outputDir: config.outputDir,
    logger,
    config,
    sources: createSourceClients(config),
    appDb: createAppDbDeps(config, logger),
  };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  await Promise.all([deps.warehouse.end(), deps.oltp.end(), deps.appDb?.close()]);
}
