// The CliContext: connections opened on first use and closed when the command ends.
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createPool, type Pool } from '../connectors/postgres.js';
import { startPostgres } from '../stack/local-stack.js';
import { createSourceClients } from '../stack/source-clients.js';
import { ensureSearchAttributes } from '../stack/temporal-dev-server.js';
import { migrate } from '../warehouse/migrate.js';
import { temporalSecurity } from '../runtime/worker-options.js';
import { UsageError, type CliContext } from './types.js';

export interface ManagedContext extends CliContext {
  close(): Promise<void>;
}

export function temporalAddressOf(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

export function createCliContext(config: Config, logger: Logger, print: (line?: string) => void): ManagedContext {
  const closers: Array<() => Promise<void>> = [];
  let client: Promise<Client> | undefined;
  let pgs: ReturnType<typeof startPostgres> | undefined;
  let warehouse: Promise<Pool> | undefined;
  let oltp: Promise<Pool> | undefined;

  const postgres = () => {
    pgs ??= startPostgres(config, logger).then((r) => {
      if (r.handle?.startedHere) closers.push(r.handle.stop);
      return r;
    });
    return pgs;
  };

  return {
    config,
    logger,
    print,
    sources: createSourceClients(config),
    uiUrl: () =>
      config.temporal.uiUrl ?? (config.temporal.address ? undefined : `http://127.0.0.1:${config.temporal.uiPort}`),
    temporal: () => {
      client ??= (async () => {
        const address = temporalAddressOf(config);
        let connection: Connection;
        try {
          connection = await Connection.connect({ address, connectTimeout: 3000, ...temporalSecurity(config) });
          await connection.workflowService.getSystemInfo({});
        } catch {
          throw new UsageError(
            `cannot reach Temporal at ${address}: start the local stack with \`learnsync dev\`, or set TEMPORAL_ADDRESS to a running server`,
          );
        }
        closers.push(() => connection.close());
        // Runs and schedules carry learnsync's search attributes: a server of the user's own gets
        // them here. Where registering is not allowed (e.g. a managed namespace), an admin adds them.
        await ensureSearchAttributes(connection, config.temporal.namespace).catch((err: Error) =>
          logger.warn({ err: err.message }, 'could not register learnsync search attributes'),
        );
        return new Client({ connection, namespace: config.temporal.namespace });
      })();
      return client;
    },
    warehouse: () => {
      warehouse ??= postgres().then(async ({ warehouseUrl }) => {
        const pool = createPool(warehouseUrl, { max: 4, applicationName: 'learnsync-cli' });
        closers.unshift(() => pool.end());
        await migrate(pool);
        return pool;
      });
      return warehouse;
    },
    oltp: () => {
      oltp ??= postgres().then(({ oltpUrl }) => {
        const pool = createPool(oltpUrl, { max: 4, applicationName: 'learnsync-cli' });
        closers.unshift(() => pool.end());
        return pool;
      });
      return oltp;
    },
    close: async () => {
      for (const c of closers) await c().catch(() => {});
    },
  };
}
