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
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        // The worker also listens for these signals; if it stops on its own, so do we.
        void stack.workerDone?.finally(() => resolve());
      });
      return 0;
    } finally {
      ctx.print('stopping…');
      await stack.stop();
    }
  },
};
