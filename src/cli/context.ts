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
import { learnsyncHint } from './hints.js';
import { UsageError, type CliContext } from './types.js';
import { networkCode } from './errors.js';

export interface ManagedContext extends CliContext {
  close(): Promise<void>;
}

/** gRPC UNAUTHENTICATED (16) or PERMISSION_DENIED (7), wherever the client put the status. */
export function grpcAuthFailure(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (e.code === 16 || e.code === 7) return true;
  }
  return /UNAUTHENTICATED|PERMISSION_DENIED|unauthori[sz]ed|invalid API key/i.test(String((err as Error)?.message));
}

/** A connection failure of a Postgres database, as one line naming the variable to fix; undefined for other errors. */
export function postgresProblem(err: unknown, what: string, url: string, variable: string): UsageError | undefined {
  const code = (err as { code?: unknown })?.code;
  const at = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'its configured address';
    }
  })();
  if (typeof code === 'string' && code.startsWith('28'))
    return new UsageError(
      `${what} at ${at} refused the login (SQLSTATE ${code}): check the user and password in ${variable}`,
    );
  if (code === '3D000') return new UsageError(`${what} at ${at} does not exist (SQLSTATE 3D000): check ${variable}`);
  const net = networkCode(err);
  if (net)
    return new UsageError(`cannot reach ${what} at ${at} (${net}): check ${variable} and that the server is running`);
  return undefined;
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
          connection = await Connection.connect({
            address,
            connectTimeout: 3000,
            ...temporalSecurity(config),
            // A follower outlives Temporal outages: reconnect within seconds of the server's return,
            // not after gRPC's default backoff of up to two minutes.
            channelArgs: { 'grpc.initial_reconnect_backoff_ms': 500, 'grpc.max_reconnect_backoff_ms': 3000 },
          });
          await connection.workflowService.getSystemInfo({});
        } catch (err) {
          if (grpcAuthFailure(err))
            throw new UsageError(
              `Temporal at ${address} refused the credentials: ` +
                'check TEMPORAL_API_KEY (and TEMPORAL_NAMESPACE, TEMPORAL_TLS)',
            );
          throw new UsageError(
            config.temporal.address
              ? `cannot reach Temporal at TEMPORAL_ADDRESS=${address}: start that server, or unset ` +
                  `TEMPORAL_ADDRESS to use the local stack (\`${learnsyncHint('dev')}\`)`
              : `cannot reach Temporal at ${address}: start the local stack with \`${learnsyncHint('dev')}\`, ` +
                  'or set TEMPORAL_ADDRESS to a running server',
          );
        }
        closers.push(() => connection.close());
        await requireNamespace(connection, config.temporal.namespace, address);
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
        await migrate(pool).catch((err: unknown) => {
          throw postgresProblem(err, 'the warehouse', warehouseUrl, 'WAREHOUSE_DATABASE_URL') ?? err;
        });
        return pool;
      });
      return warehouse;
    },
    oltp: () => {
      oltp ??= postgres().then(async ({ oltpUrl }) => {
        const pool = createPool(oltpUrl, { max: 4, applicationName: 'learnsync-cli' });
        closers.unshift(() => pool.end());
        await pool.query('SELECT 1').catch((err: unknown) => {
          throw postgresProblem(err, 'the OLTP source database', oltpUrl, 'OLTP_DATABASE_URL') ?? err;
        });
        return pool;
      });
      return oltp;
    },
    close: async () => {
      for (const c of closers) await c().catch(() => {});
    },
  };
}

const GRPC_NOT_FOUND = 5;

/** A namespace that does not exist is a configuration mistake: one line naming the ones that do. */
async function requireNamespace(connection: Connection, namespace: string, address: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
    const names = await connection.workflowService
      .listNamespaces({ pageSize: 100 })
      .then((r) => r.namespaces.map((n) => n.namespaceInfo?.name).filter(Boolean))
      .catch(() => []);
    throw new UsageError(
      `namespace "${namespace}" does not exist on Temporal at ${address}: set TEMPORAL_NAMESPACE to ` +
        `${names.length ? `one of ${names.join(', ')}` : 'an existing namespace'}`,
    );
  }
}
