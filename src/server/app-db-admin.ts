// Seed 002's admin endpoints (the app-db family's Fastify plugin, /admin/bigquery/...) mounted on
// `learnsync serve` behind admin tokens. Temporal is reached lazily, per request, so the server
// starts even while Temporal is down.
import type { Client } from '@temporalio/client';
import { registerAppDbAdminRoutes, temporalSyncTriggers, type SyncTriggers } from '../pipelines/app-db/admin-routes.js';
import { readAppDbStatus } from '../pipelines/app-db/status.js';
import { trackingDataset } from '../pipelines/app-db/tracking.js';
import type { MountedPlugin, ServerDeps } from './deps.js';

export function appDbAdminPlugin(deps: Pick<ServerDeps, 'config' | 'warehouse' | 'temporal'>): MountedPlugin {
  const triggers = async (): Promise<SyncTriggers> =>
    temporalSyncTriggers((await deps.temporal()) as Client, deps.config.temporal.taskQueue);
  const { appDb } = deps.config;
  return {
    prefix: '',
    role: 'admin',
    plugin: async (app, opts) => {
      await registerAppDbAdminRoutes(app, {
        preHandler: opts.preHandler,
        triggers: {
          describe: async (id) => (await triggers()).describe(id),
          start: async (id, input) => (await triggers()).start(id, input),
        },
        // Tracking rows are keyed by project.dataset (what the activity writes), not the bare dataset.
        readStatus: () => readAppDbStatus(deps.warehouse, trackingDataset(appDb.bigquery)),
        privacy: { secretColumns: appDb.secretColumns, dropColumns: appDb.dropColumns },
      });
    },
  };
}
