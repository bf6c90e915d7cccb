// Starting a pipeline run from the CLI (through the start logic it shares with the HTTP API) and
// either following it — or the run of the same id already going — to the end, or printing how to follow it.
import type { Client } from '@temporalio/client';
import { addDays, dayBefore } from '../pipelines/dates.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import type { runPipeline } from '../workflows/run-dag.js';
import { AlreadyRunningError, runWorkflowId, startPipelineRun as startRun } from '../schedules/start-runs.js';
import { learnsyncHint, temporalHint } from './hints.js';
import { exitCodeFor, onInterrupt, type StopSignal } from './signals.js';
import { workflowUrl } from '../runtime/links.js';
import { fmtInt, fmtMs, nodeTable, watchPipelineRun } from './watch-run.js';
import type { CliContext } from './types.js';

export { runWorkflowId };

/** Starts a run for the CLI, or finds the one of the same id already running. */
export async function startPipelineRun(
  ctx: CliContext,
  client: Client,
  def: PipelineDefinition,
  opts: { targetDate?: string; force: boolean; definition?: PipelineDefinition },
) {
  try {
    const outageWindowMinutes = ctx.config.retry.outageWindowMinutes;
    const started = await startRun(client, ctx.config.temporal.taskQueue, def, { ...opts, outageWindowMinutes });
    return { ...started, alreadyRunning: false };
  } catch (err) {
    if (!(err instanceof AlreadyRunningError)) throw err;
    // The same pipeline and date is running already: follow that run rather than start a second.
    const targetDate = def.kind === 'nightly' ? (opts.targetDate ?? dayBefore(Date.now())) : undefined;
    return {
      handle: client.workflow.getHandle<typeof runPipeline>(err.workflowId),
      workflowId: err.workflowId,
      targetDate,
      alreadyRunning: true,
    };
  }
}

/** Starts a run (or finds the one already running) and, unless noWait, follows it, prints its DAG
 * and returns the exit code. */
export async function runAndReport(
  ctx: CliContext,
  def: PipelineDefinition,
  opts: {
    targetDate?: string;
    force: boolean;
    noWait?: boolean;
    definition?: PipelineDefinition;
    /** The learnsync arguments that follow this run again, e.g. `run nightly --date 2026-01-15`. */
    followArgs?: (targetDate: string | undefined) => string | undefined;
  },
): Promise<number> {
  const client = await ctx.temporal();
  const { handle, workflowId, targetDate, alreadyRunning } = await startPipelineRun(ctx, client, def, opts);
  const url = workflowUrl(ctx.uiUrl(), ctx.config.temporal.namespace, workflowId);
  const what = `${def.name}${targetDate ? ` for ${targetDate}` : ''}`;
  ctx.print(
    alreadyRunning
      ? `${what} is already running: following workflow ${workflowId}`
      : `started ${what}${opts.force ? ' (forced)' : ''}: workflow ${workflowId}`,
  );
  const again = opts.followArgs?.(targetDate);
  const describe = temporalHint(ctx.config, `workflow describe -w ${workflowId}`);
  if (opts.noWait) {
    if (url) ctx.print(`follow it: ${url}`);
    ctx.print(`or: ${describe}`);
    return 0;
  }
  let signal: StopSignal | undefined;
  let off: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => {
    off = onInterrupt((s) => {
      signal = s;
      resolve();
    });
  });
  const started = Date.now();
  let outcome;
  try {
    outcome = await watchPipelineRun(handle, ctx.print, { interrupted });
  } finally {
    off();
  }
  if (outcome.end === 'interrupted') {
    ctx.print(
      `${workflowId} is still running in Temporal; follow it again with ` +
        `${again ? `\`${learnsyncHint(again)}\` or ` : ''}\`${describe}\``,
    );
    return exitCodeFor(signal ?? 'SIGINT');
  }
  ctx.print();
  if (outcome.progress) for (const line of nodeTable(outcome.progress)) ctx.print(line);
  ctx.print();
  if (outcome.ok && outcome.result) {
    ctx.print(
      `result: SUCCESS — ${fmtInt(outcome.result.rows)} rows, ${fmtInt(outcome.result.rejected)} rejected, ` +
        `${fmtMs(Date.now() - started)}`,
    );
    if (outcome.result.rows === 0 && targetDate) {
      // Zero rows is a real answer, but usually a date outside the sample window: say so.
      const to = dayBefore(Date.now());
      const from = addDays(to, -(ctx.config.sample.days - 1));
      ctx.print(
        `  0 rows: the sources hold nothing for ${targetDate}. The sample sources that \`dev\`/\`demo\` load ` +
          `cover the ${ctx.config.sample.days} days (SAMPLE_DAYS) before the day they start — today ${from}..${to}: ` +
          `\`${learnsyncHint(`run ${def.name} --date ${to}`)}\``,
      );
    }
  } else if (outcome.end === 'unreachable') {
    ctx.print(`result: UNKNOWN — Temporal stayed unreachable; the run may still finish: \`${describe}\``);
  } else {
    ctx.print(`result: FAILED — ${outcome.error}`);
  }
  if (url) ctx.print(`Web UI: ${url}`);
  return outcome.ok ? 0 : 1;
}
