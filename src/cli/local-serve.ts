// `learnsync dev` and `demo` also run `serve` next to the local stack: its URL and a freshly
// created admin token are printed, so the dashboard is one click away. A busy SERVE_PORT falls
// back to a free port rather than failing the stack. The token lives as long as the session: it is
// revoked when the session closes the server, and expires after DEV_TOKEN_TTL_MS regardless (a
// SIGKILLed session cannot revoke it).
import { startServer, type RunningServer } from '../server/serve.js';
import { createToken, revokeToken } from '../server/tokens.js';
import type { LocalStack } from '../stack/local-stack.js';
import type { CliContext } from './types.js';

/** A printed dev/demo admin token is valid for a working day at most. */
export const DEV_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

export async function startLocalServe(
  ctx: CliContext,
  stack: Pick<LocalStack, 'uiUrl'>,
  purpose: 'dev' | 'demo',
): Promise<RunningServer | undefined> {
  try {
    const warehouse = await ctx.warehouse();
    const deps = {
      config: ctx.config,
      logger: ctx.logger,
      warehouse,
      temporal: () => ctx.temporal(),
      uiUrl: stack.uiUrl,
      kusto: ctx.sources.kusto,
    };
    let server: RunningServer;
    try {
      server = await startServer(deps);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      server = await startServer(deps, { port: 0 });
    }
    const { token, info } = await createToken(
      warehouse,
      `${purpose}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`,
      'admin',
      { ttlMs: DEV_TOKEN_TTL_MS },
    );
    const close = server.close.bind(server);
    server.close = async () => {
      await revokeToken(warehouse, info.id).catch(() => 0);
      await close();
    };
    ctx.print(`Dashboard:     ${server.url}/   (API ${server.url}/api, metrics ${server.url}/metrics)`);
    ctx.print(`Admin token:   ${token}`);
    ctx.print(
      '               (shown once; valid until this session ends, 12 h at most; paste it into the dashboard, ' +
        'or: curl -H "Authorization: Bearer <token>" …)',
    );
    return server;
  } catch (err) {
    ctx.print(`(learnsync serve did not start: ${(err as Error).message})`);
    return undefined;
  }
}
