import { appDbIncremental } from '../../pipelines/app-db/definition.js';
import { formatAppDbStatus, readAppDbStatus } from '../../pipelines/app-db/status.js';
import { NIGHTLY_PIPELINE } from '../../pipelines/registry.js';
import { seedersFor } from '../../stack/demo-seeders.js';
import { requirePipeline } from '../args.js';
import { startLocalServe } from '../local-serve.js';
import { describeStack, seedSamples, startLocalSession } from '../local-session.js';
import { runAndReport } from '../start-run.js';
import { showCdc } from '../cdc-showcase.js';
import { learnsyncHint } from '../hints.js';
import { exitCodeFor, onInterrupt } from '../signals.js';
import type { CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'demo',
  summary: 'the main job on embedded defaults: local Temporal + Postgres + worker, sample data, the nightly pipeline',
  usage: 'learnsync demo [--pipeline NAME]',
  options: { pipeline: { type: 'string' } },
  async run(ctx, { values }) {
    const def = requirePipeline(typeof values.pipeline === 'string' ? values.pipeline : NIGHTLY_PIPELINE);
    const stack = await startLocalSession(ctx);
    let off: () => void = () => {};
    const interrupted = new Promise<number>((resolve) => (off = onInterrupt((s) => resolve(exitCodeFor(s)))));
    let server;
    try {
      describeStack(ctx, stack);
      // The dashboard follows the run while the demo lasts; `learnsync dev` keeps it up afterwards.
      server = await startLocalServe(ctx, stack, 'demo');
      // Only the samples this pipeline reads: `--pipeline app-db-incremental` loads none of them.
      const { to } = await seedSamples(ctx, stack, seedersFor(def.name, def.name === NIGHTLY_PIPELINE));
      ctx.print();
      // Forced: the sample was just rewritten, so yesterday's ledger entries must not skip it.
      let code = await Promise.race([runAndReport(ctx, def, { targetDate: to, force: true }), interrupted]);
      // The app database → BigQuery sync (sample SQLite → the local emulator) after the nightly run.
      const appDb = def.name === NIGHTLY_PIPELINE ? appDbIncremental : def.name.startsWith('app-db') ? undefined : null;
      if (appDb !== null && code !== 130) {
        if (appDb) {
          ctx.print();
          code = Math.max(code, await Promise.race([runAndReport(ctx, appDb, { force: false }), interrupted]));
        }
        const b = ctx.config.appDb.bigquery;
        ctx.print();
        ctx.print(`app database → BigQuery ${b.projectId}.${b.datasetId}, per table:`);
        for (const line of formatAppDbStatus(
          await readAppDbStatus(stack.deps!.warehouse, `${b.projectId}.${b.datasetId}`),
        ))
          ctx.print(`  ${line}`);
      }
      // Change data capture of the OLTP dimensions, after the nightly run copied them as snapshots.
      if (def.name === NIGHTLY_PIPELINE && code === 0) {
        ctx.print();
        code = Math.max(code, await Promise.race([showCdc(ctx), interrupted]));
      }
      if (stack.started.some((s) => s.startsWith('Temporal'))) {
        ctx.print(
          `(the demo stops the Temporal dev server it started; \`${learnsyncHint('dev')}\` ` +
            'brings it back with this run at that link)',
        );
      }
      return code;
    } finally {
      off();
      if (server)
        ctx.print(
          `the dashboard at ${server.url}/ stops with the demo: ` +
            `\`${learnsyncHint('dev')}\` serves it (and prints a token) until Ctrl-C`,
        );
      ctx.print('stopping what the demo started…');
      await server?.close();
      await stack.stop();
    }
  },
};
