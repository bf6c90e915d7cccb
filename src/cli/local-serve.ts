// `learnsync dev` and `demo` also run `serve` next to the local stack: its URL and a freshly
// created admin token are printed, so the dashboard is one click away. A busy SERVE_PORT falls
// back to a free port rather than failing the stack.
import { startServer, type RunningServer } from '../server/serve.js';
import { createToken } from '../server/tokens.js';
import type { LocalStack } from '../stack/local-stack.js';
import type { CliContext } from './types.js';

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
    const { token } = await createToken(
      warehouse,
      `${purpose}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`,
      'admin',
    );
    ctx.print(`Dashboard:     ${server.url}/   (API ${server.url}/api, metrics ${server.url}/metrics)`);
    ctx.print(`Admin token:   ${token}`);
    ctx.print(
      '               (shown once; paste it into the dashboard, or: curl -H "Authorization: Bearer <token>" …)',
    );
    return server;
  } catch (err) {
    ctx.print(`(learnsync serve did not start: ${(err as Error).message})`);
    return undefined;
  }
}
