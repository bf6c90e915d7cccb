// The capture sources of change data capture, one per family that has one, bound to their
// databases: `oltp` (the warehouse family's dimensions, WAREHOUSE_OLTP_CAPTURE=cdc) and `app_db` (a
// Postgres app database, APP_DB_CAPTURE=cdc). Shared by the worker's CDC activities and the CLI.
import type { Config } from '../config.js';
import { createPool, type Pool } from '../connectors/postgres.js';
import { ConfigError, ValidationError } from '../errors.js';
import { appDbCaptureSource } from '../pipelines/app-db/postgres-change-log.js';
import { dimensionCaptureSource } from '../pipelines/warehouse/cdc.js';
import type { CaptureBindings } from '../runtime/cdc/activities.js';

export const CAPTURE_SOURCE_NAMES = ['oltp', 'app_db'] as const;

/** Whether the configuration turns capture on for `source` (status, drop-slot work either way). */
export function captureEnabled(config: Config, source: string): { on: boolean; setting: string } {
  if (source === 'app_db')
    return {
      on: config.appDb.capture === 'cdc' && config.appDb.source.kind === 'postgres',
      setting: 'APP_DB_CAPTURE=cdc with APP_DB_POSTGRES_URL',
    };
  return { on: config.cdc.capture === 'cdc', setting: 'WAREHOUSE_OLTP_CAPTURE=cdc' };
}

export function captureBindings(config: Config, oltp: Pool): CaptureBindings {
  return {
    oltp() {
      const oltpUrl = config.postgres.oltpUrl ?? oltp.options.connectionString;
      if (!oltpUrl)
        throw new ValidationError('CDC needs OLTP_DATABASE_URL (a connection string) for its replication connection');
      const source = dimensionCaptureSource(
        { name: 'oltp', oltpUrl, publication: config.cdc.publication, slot: config.cdc.slot },
        oltp,
      );
      return { source, db: oltp, release: async () => {} };
    },
    app_db() {
      const s = config.appDb.source;
      if (s.kind !== 'postgres')
        throw new ConfigError(
          'the app_db capture reads a Postgres app database (APP_DB_POSTGRES_URL); SQLite app databases ' +
            'capture changes with triggers instead (APP_DB_CAPTURE=cdc, no capture workflow)',
        );
      const db = createPool(s.url, { max: 2, applicationName: 'learnsync-cdc-app-db' });
      const source = appDbCaptureSource({ url: s.url, schema: s.schema, ...config.appDb.cdc });
      return { source, db, release: () => db.end() };
    },
  };
}
