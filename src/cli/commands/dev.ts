import { startLocalServe } from '../local-serve.js';
import { describeStack, seedSamples, startLocalSession } from '../local-session.js';
import { learnsyncHint } from '../hints.js';
import { cliLogFile } from '../log-file.js';
import { startRunFeed } from '../run-feed.js';
import { exitCodeFor, onInterrupt, type StopSignal } from '../signals.js';
import type { CliCommand } from '../types.js';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { startSampleOltpChanges } from '../../stack/sample-oltp-changes.js';
import { cdcCapture, cdcWorkflowId } from '../../workflows/cdc.js';

/** Sample OLTP changes a minute while `dev` captures with CDC. */
const SAMPLE_OLTP_CHANGES_PER_MINUTE = 30;

export const command: CliCommand = {
  name: 'dev',
  summary: 'run the local stack (Temporal + Web UI, Postgres, worker, serve) in the foreground until Ctrl-C',
  usage: 'learnsync dev [--no-seed]',
  options: { 'no-seed': { type: 'boolean' } },
  async run(ctx, { values }) {
    const stack = await startLocalSession(ctx);
    let server;
    try {
      if (!values['no-seed']) await seedSamples(ctx, stack);
      ctx.print();
      describeStack(ctx, stack);
      ctx.print(`Logs:          ${cliLogFile(ctx.config, 'dev')} (kept off this feed)`);
      server = await startLocalServe(ctx, stack, 'dev');
      ctx.print();
      ctx.print(
        `in another terminal: ${['run <pipeline>', 'backfill …', 'schedules apply', 'status']
          .map((c) => `\`${learnsyncHint(c)}\``)
          .join(', ')}`,
      );
      let stopChanges = () => {};
      if (ctx.config.cdc.capture === 'cdc') {
        // CDC in dev: the capture runs, and the sample source keeps changing so lag and versions move.
        await (
          await ctx.temporal()
        ).workflow
          .start(cdcCapture, {
            taskQueue: ctx.config.temporal.taskQueue,
            workflowId: cdcWorkflowId('oltp'),
            args: [{ source: 'oltp', sliceSeconds: 10 }],
          })
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          });
        stopChanges = startSampleOltpChanges(await ctx.oltp(), SAMPLE_OLTP_CHANGES_PER_MINUTE);
        ctx.print(
          `CDC:           ${cdcWorkflowId('oltp')} captures the OLTP source; the sample changes ` +
            `${SAMPLE_OLTP_CHANGES_PER_MINUTE} learners a minute (\`${learnsyncHint('cdc status oltp')}\`)`,
        );
      }
      ctx.print('Ctrl-C stops everything this command started. Runs as they start and end:');
      const stopFeed = startRunFeed(await ctx.temporal(), {
        print: ctx.print,
        uiUrl: stack.uiUrl,
        namespace: ctx.config.temporal.namespace,
      });
      let off: () => void = () => {};
      // A Temporal dev server or Postgres that dies is restarted; one that cannot be is the end.
      const end = await new Promise<{ signal?: StopSignal; gaveUp?: string }>((resolve) => {
        off = onInterrupt((signal) => resolve({ signal }));
        // The worker also listens for these signals; if it stops on its own, so do we.
        void stack.workerDone?.finally(() => resolve({}));
        void stack.supervise((line) => ctx.print(line)).then((gaveUp) => resolve({ gaveUp }));
      }).finally(() => off());
      await stopFeed();
      stopChanges();
      if (end.gaveUp) {
        ctx.print(`learnsync dev: ${end.gaveUp}`);
        return 1;
      }
      return end.signal === 'SIGINT' || end.signal === undefined ? 0 : exitCodeFor(end.signal);
    } finally {
      ctx.print('stopping…');
      await server?.close();
      await stack.stop();
    }
  },
};
