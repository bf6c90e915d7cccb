// `learnsync backfill`: starts the backfill parent (or finds the one already running) and follows
// it with a progress bar, through Temporal outages; Ctrl-C leaves it running and says how to follow it.
import type { BackfillProgress } from '../../pipelines/types.js';
import {
  AlreadyRunningError,
  backfillWorkflowId,
  checkBackfillRequest,
  startBackfill,
} from '../../schedules/start-runs.js';
import { retryingInBackfill, retryingText } from '../../runtime/retrying.js';
import { backfillPipeline, backfillProgressQuery, type BackfillResult } from '../../workflows/backfill.js';
import { learnsyncHint, temporalHint } from '../hints.js';
import { exitCodeFor, onInterrupt, type StopSignal } from '../signals.js';
import { workflowUrl } from '../../runtime/links.js';
import { closedResult, fmtInt, followWorkflow } from '../watch-run.js';
import type { CliCommand } from '../types.js';

export function progressBar(p: BackfillProgress, width = 30): string {
  const filled = p.total ? Math.round((p.done / p.total) * width) : 0;
  return (
    `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${p.done}/${p.total} dates  running ` +
    `${p.running.length}  failed ${p.failed.length}  rows ${fmtInt(p.rows)}`
  );
}

export { backfillWorkflowId };

export const command: CliCommand = {
  name: 'backfill',
  summary: 'run a nightly pipeline for every date of a range, N dates at a time',
  usage:
    'learnsync backfill <pipeline> --from YYYY-MM-DD --to YYYY-MM-DD [--concurrency N] [--force] ' +
    '[--max-dates N | --yes]',
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    concurrency: { type: 'string' },
    force: { type: 'boolean' },
    'max-dates': { type: 'string' },
    yes: { type: 'boolean' },
  },
  async run(ctx, { positionals, values }) {
    const req = checkBackfillRequest(
      positionals[0],
      {
        from: values.from,
        to: values.to,
        concurrency: values.concurrency,
        force: values.force === true,
        maxDates: values['max-dates'],
        yes: values.yes === true,
      },
      ctx.config.backfill.maxDates,
    );
    const { def, from, to, concurrency, total } = req;
    const client = await ctx.temporal();
    const workflowId = backfillWorkflowId(def.name, from, to);
    let handle;
    try {
      handle = (await startBackfill(client, ctx.config.temporal.taskQueue, req, ctx.config.retry.outageWindowMinutes))
        .handle;
      ctx.print(
        `started backfill of ${def.name}: ${total} dates ${from}..${to}, ${concurrency} at a ` +
          `time${values.force ? ', forced' : ''}`,
      );
    } catch (err) {
      if (!(err instanceof AlreadyRunningError)) throw err;
      handle = client.workflow.getHandle<typeof backfillPipeline>(workflowId);
      ctx.print(`this backfill is already running: following it`);
    }
    const url = workflowUrl(ctx.uiUrl(), ctx.config.temporal.namespace, workflowId);
    if (url) ctx.print(`Web UI: ${url}`);

    const tty = process.stdout.isTTY;
    let signal: StopSignal | undefined;
    let off: () => void = () => {};
    const interrupted = new Promise<void>((resolve) => {
      off = onInterrupt((s) => {
        signal = s;
        resolve();
      });
    });
    let last = '';
    const show = (line: string) => {
      if (line === last) return;
      if (tty) process.stdout.write(`\r${line}`);
      else ctx.print(line);
      last = line;
    };
    const print = (line?: string) => {
      // an outage notice on its own line, not over the bar
      if (tty && last) process.stdout.write('\n');
      last = '';
      ctx.print(line);
    };
    const failuresSeen = new Set<string>();
    let end;
    try {
      end = await followWorkflow(handle, {
        print,
        interrupted,
        intervalMs: 1000,
        // between continue-as-new runs the query can miss: the next poll answers
        onPoll: async () => {
          const p = await handle.query(backfillProgressQuery);
          show(progressBar(p));
          // A date whose node retries says so at once, with its last failure, above the bar.
          for (const r of await retryingInBackfill(client, workflowId, p.running)) {
            const key = `${r.workflowId}#${r.nodeId ?? r.activity}#${r.attempt}`;
            if (failuresSeen.has(key)) continue;
            failuresSeen.add(key);
            print(`  ⟳ ${r.workflowId.slice(workflowId.length + 1)} ${retryingText(r)}`);
          }
        },
      });
    } finally {
      off();
    }
    if (tty && last) process.stdout.write('\n');
    const describe = temporalHint(ctx.config, `workflow describe -w ${workflowId}`);
    if (end === 'interrupted') {
      ctx.print(
        `the backfill is still running in Temporal; follow it again with ` +
          `\`${learnsyncHint(`backfill ${def.name} --from ${from} --to ${to}`)}\` or \`${describe}\``,
      );
      return exitCodeFor(signal ?? 'SIGINT');
    }
    if (end === 'unreachable') {
      ctx.print(`result: UNKNOWN — Temporal stayed unreachable; the backfill may still finish: \`${describe}\``);
      return 1;
    }
    const outcome = await closedResult<BackfillResult>(handle);
    if (outcome.ok) {
      const r = outcome.result;
      ctx.print(progressBar(r));
      ctx.print(
        `result: SUCCESS — ${r.succeeded} dates, ${fmtInt(r.rows)} rows, continued as new ${r.continuedAsNew} times`,
      );
      return 0;
    }
    ctx.print(`result: FAILED — ${outcome.error}`);
    return 1;
  },
};
