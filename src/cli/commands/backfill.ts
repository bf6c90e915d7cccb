import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { dateCount } from '../../pipelines/dates.js';
import type { BackfillProgress } from '../../pipelines/types.js';
import { backfillPipeline, backfillProgressQuery } from '../../workflows/backfill.js';
import { PIPELINE_KEY, STATUS_KEY } from '../../workflows/search-attributes.js';
import { positiveInt, requireDate, requirePipeline } from '../args.js';
import { fmtInt, workflowUrl } from '../watch-run.js';
import { UsageError, type CliCommand } from '../types.js';

export function progressBar(p: BackfillProgress, width = 30): string {
  const filled = p.total ? Math.round((p.done / p.total) * width) : 0;
  return (
    `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${p.done}/${p.total} dates  running ` +
    `${p.running.length}  failed ${p.failed.length}  rows ${fmtInt(p.rows)}`
  );
}

export const backfillWorkflowId = (pipeline: string, from: string, to: string) =>
  `learnsync-backfill-${pipeline}-${from}-${to}`;

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
    const def = requirePipeline(positionals[0]);
    if (def.kind !== 'nightly')
      throw new UsageError(`${def.name} is ${def.kind}: only dated pipelines can be backfilled`);
    const from = requireDate(values.from, '--from');
    const to = requireDate(values.to, '--to');
    if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
    const concurrency = positiveInt(values.concurrency, '--concurrency', 4);
    const total = dateCount(from, to);
    const maxDates =
      values.yes === true ? total : positiveInt(values['max-dates'], '--max-dates', ctx.config.backfill.maxDates);
    if (total > maxDates)
      throw new UsageError(
        `${from}..${to} is ${fmtInt(total)} dates, over the maximum of ${fmtInt(maxDates)} ` +
          '(LEARNSYNC_BACKFILL_MAX_DATES): ' +
          `check the range, or confirm with --max-dates ${total} or --yes`,
      );

    const client = await ctx.temporal();
    const workflowId = backfillWorkflowId(def.name, from, to);
    let handle;
    try {
      handle = await client.workflow.start(backfillPipeline, {
        taskQueue: ctx.config.temporal.taskQueue,
        workflowId,
        args: [{ pipeline: def.name, from, to, concurrency, force: values.force === true, maxDates }],
        typedSearchAttributes: [
          { key: PIPELINE_KEY, value: def.name },
          { key: STATUS_KEY, value: 'RUNNING' },
        ],
      });
      ctx.print(
        `started backfill of ${def.name}: ${total} dates ${from}..${to}, ${concurrency} at a ` +
          `time${values.force ? ', forced' : ''}`,
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = client.workflow.getHandle<typeof backfillPipeline>(workflowId);
      ctx.print(`this backfill is already running: following it`);
    }
    const url = workflowUrl(ctx.uiUrl(), ctx.config.temporal.namespace, workflowId);
    if (url) ctx.print(`Web UI: ${url}`);

    const tty = process.stdout.isTTY;
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSigint);
    let done = false;
    const result = handle.result().finally(() => {
      done = true;
    });
    result.catch(() => {});
    let last = '';
    try {
      while (!done && !interrupted) {
        try {
          const line = progressBar(await handle.query(backfillProgressQuery));
          if (line !== last) {
            if (tty) process.stdout.write(`\r${line}`);
            else ctx.print(line);
            last = line;
          }
        } catch {
          // between continue-as-new runs the query can miss: the next poll answers
        }
        await Promise.race([result.catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (tty && last) process.stdout.write('\n');
    if (interrupted) {
      ctx.print(
        `the backfill goes on in Temporal. Follow it with \`learnsync backfill ${def.name} --from ` +
          `${from} --to ${to}\`,`,
      );
      ctx.print(`\`temporal workflow describe -w ${workflowId}\` or \`learnsync status\`.`);
      return 0;
    }
    try {
      const r = await result;
      ctx.print(progressBar(r));
      ctx.print(
        `result: SUCCESS — ${r.succeeded} dates, ${fmtInt(r.rows)} rows, continued as new ${r.continuedAsNew} times`,
      );
      return 0;
    } catch (err) {
      ctx.print(
        `result: FAILED — ` +
          `${err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message}`,
      );
      return 1;
    }
  },
};
