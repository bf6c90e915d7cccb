// Runs `learnsync serve`: the API and dashboard on SERVE_HOST:SERVE_PORT (127.0.0.1 unless
// configured), with live learner reads wired to the configured Kusto clusters.
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { LearnerProfileService } from '../pipelines/learning-roi/learner-profile.js';
import type { KustoClusterPair } from '../runtime/deps.js';
import { createErrorReporter } from '../runtime/error-reporting.js';
import { appDbAdminPlugin } from './app-db-admin.js';
import { buildServer, type ServerDeps } from './app.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** `kusto` (the source clients chosen at the edge) backs the live learner reads unless `profiles` is given. */
export async function startServer(
  deps: ServerDeps & { kusto?: () => Promise<KustoClusterPair> },
  opts: { host?: string; port?: number } = {},
): Promise<RunningServer> {
  const kusto = deps.kusto;
  const profiles =
    deps.profiles ??
    (kusto
      ? new LearnerProfileService({ warehouse: deps.warehouse, clusters: kusto, config: deps.config })
      : undefined);
  const reporter = deps.reportError ? undefined : createErrorReporter(deps.config, deps.logger, 'serve');
  const plugins = deps.plugins ?? [appDbAdminPlugin(deps)];
  const app = await buildServer({
    ...deps,
    plugins,
    profiles,
    reportError: deps.reportError ?? ((err, context) => reporter!.report(err, context)),
  });
  const host = opts.host ?? deps.config.serve.host;
  await app.listen({ host, port: opts.port ?? deps.config.serve.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    app,
    url: `http://${shownHost}:${port}`,
    close: async () => {
      await app.close();
      await reporter?.flush();
    },
  };
}

/** A Temporal client that is connected on first use and, unlike a cached promise, retried after a failure. */
export function reconnectingTemporal(connect: () => Promise<Client>): {
  get: () => Promise<Client>;
  close: () => Promise<void>;
} {
  let current: Promise<Client> | undefined;
  return {
    get: () => {
      current ??= connect().catch((err: unknown) => {
        current = undefined;
        throw err;
      });
      return current;
    },
    close: async () => {
      const c = await current?.catch(() => undefined);
      await c?.connection.close();
    },
  };
}
