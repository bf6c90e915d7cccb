import { describeStack, seedSamples, startLocalSession } from '../local-session.js';
import type { CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'dev',
  summary: 'run the local stack (Temporal + Web UI, Postgres, worker) in the foreground until Ctrl-C',
  usage: 'learnsync dev [--no-seed]',
  options: { 'no-seed': { type: 'boolean' } },
  async run(ctx, { values }) {
    const stack = await startLocalSession(ctx);
    try {
      if (!values['no-seed']) await seedSamples(ctx, stack);
      ctx.print();
      describeStack(ctx, stack);
      ctx.print();
      ctx.print(
        'in another terminal: `learnsync run <pipeline>`, ' +
          '`learnsync backfill …`, `learnsync schedules apply`, `learnsync status`',
      );
      ctx.print('Ctrl-C stops everything this command started.');
      // A Temporal dev server or Postgres that dies is restarted; one that cannot be is the end.
      const gaveUp = await new Promise<string | undefined>((resolve) => {
        process.once('SIGINT', () => resolve(undefined));
        process.once('SIGTERM', () => resolve(undefined));
        // The worker also listens for these signals; if it stops on its own, so do we.
        void stack.workerDone?.finally(() => resolve(undefined));
        void stack.supervise((line) => ctx.print(line)).then(resolve);
      });
      if (gaveUp) {
        ctx.print(`learnsync dev: ${gaveUp}`);
        return 1;
      }
      return 0;
    } finally {
      ctx.print('stopping…');
      await stack.stop();
    }
  },
};
