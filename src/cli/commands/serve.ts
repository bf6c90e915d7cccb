// `learnsync serve`: the authenticated API, the dashboard and /metrics in one process, until Ctrl-C.
import { Client, Connection } from '@temporalio/client';
import { startServer, reconnectingTemporal } from '../../server/serve.js';
import { temporalSecurity } from '../../runtime/worker-options.js';
import { temporalAddressOf } from '../context.js';
import { UsageError, type CliCommand, type CliContext } from '../types.js';
import { onInterrupt } from '../signals.js';

export async function serveUntilStopped(ctx: CliContext, port: number | undefined): Promise<number> {
  const warehouse = await ctx.warehouse();
  const temporal = reconnectingTemporal(async () => {
    const connection = await Connection.connect({
      address: temporalAddressOf(ctx.config),
      connectTimeout: 3000,
      ...temporalSecurity(ctx.config),
    });
    return new Client({ connection, namespace: ctx.config.temporal.namespace });
  });
  const server = await startServer(
    {
      config: ctx.config,
      logger: ctx.logger,
      warehouse,
      temporal: temporal.get,
      uiUrl: ctx.uiUrl(),
      kusto: ctx.sources.kusto,
    },
    { port },
  );
  ctx.print(
    `learnsync serve: dashboard ${server.url}/  API ${server.url}/api  ` +
      `OpenAPI ${server.url}/openapi.json  metrics ${server.url}/metrics`,
  );
  ctx.print('tokens: `learnsync tokens create <name> [--role read|admin]`; Ctrl-C stops');
  let off: () => void = () => {};
  await new Promise<void>((resolve) => (off = onInterrupt(() => resolve())));
  off();
  await server.close();
  await temporal.close();
  return 0;
}

export function portOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, got "${String(value)}"`);
  return port;
}

export const command: CliCommand = {
  name: 'serve',
  summary: 'the HTTP API (bearer tokens), the dashboard and /metrics, on 127.0.0.1:8787 unless configured',
  usage: 'learnsync serve [--port N]',
  options: { port: { type: 'string' } },
  run: (ctx, { values }) => serveUntilStopped(ctx, portOption(values.port)),
};
