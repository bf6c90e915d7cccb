// Starting a pipeline run from the CLI: deterministic ids, search attributes, and either
// following it to the end or printing how to follow it.
import type { Client } from '@temporalio/client';
import type { PipelineDefinition } from '../pipelines/types.js';
import { AlreadyRunningError, startPipelineRun as startRun } from '../schedules/start-runs.js';
import { fmtInt, fmtMs, nodeTable, watchPipelineRun, workflowUrl } from './watch-run.js';
import { UsageError, type CliContext } from './types.js';

export { runWorkflowId } from '../schedules/start-runs.js';

/** Starts a run for the CLI: a duplicate becomes one UsageError line. */
export async function startPipelineRun(
  ctx: CliContext,
  client: Client,
  def: PipelineDefinition,
  opts: { targetDate?: string; force: boolean; definition?: PipelineDefinition },
) {
  try {
    return await startRun(client, ctx.config.temporal.taskQueue, def, opts);
  } catch (err) {
    if (err instanceof AlreadyRunningError) throw new UsageError(err.message);
    throw err;
  }
}

/** Starts a run and, unless noWait, follows it, prints its DAG and returns the exit code. */
export async function runAndReport(
  ctx: CliContext,
  def: PipelineDefinition,
  opts: { targetDate?: string; force: boolean; noWait?: boolean; definition?: PipelineDefinition },
): Promise<number> {
  const client = await ctx.temporal();
  const { handle, workflowId, targetDate } = await startPipelineRun(ctx, client, def, opts);
  const url = workflowUrl(ctx.uiUrl(), ctx.config.temporal.namespace, workflowId);
  ctx.print(
    `started ${def.name}${targetDate ? ` for ${targetDate}` : ''}${opts.force ? ' (forced)' : ''}: ` +
      `workflow ${workflowId}`,
  );
  if (opts.noWait) {
    if (url) ctx.print(`follow it: ${url}`);
    ctx.print(`or: temporal workflow describe -w ${workflowId}`);
    return 0;
  }
  const started = Date.now();
  const outcome = await watchPipelineRun(handle, ctx.print);
  ctx.print();
  if (outcome.progress) for (const line of nodeTable(outcome.progress)) ctx.print(line);
  ctx.print();
  if (outcome.ok && outcome.result) {
    ctx.print(
      `result: SUCCESS — ${fmtInt(outcome.result.rows)} rows, ${fmtInt(outcome.result.rejected)} rejected, ` +
        `${fmtMs(Date.now() - started)}`,
    );
  } else {
    ctx.print(`result: FAILED — ${outcome.error}`);
  }
  if (url) ctx.print(`Web UI: ${url}`);
  return outcome.ok ? 0 : 1;
}
