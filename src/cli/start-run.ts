// Starting a pipeline run from the CLI: deterministic ids, search attributes, and either
// following it to the end or printing how to follow it.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { dayBefore } from '../pipelines/dates.js';
import type { PipelineDefinition, PipelineRunInput } from '../pipelines/types.js';
import { runPipeline } from '../workflows/run-dag.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from '../workflows/search-attributes.js';
import { fmtInt, fmtMs, nodeTable, watchPipelineRun, workflowUrl } from './watch-run.js';
import { UsageError, type CliContext } from './types.js';

export function runWorkflowId(def: PipelineDefinition, targetDate: string | undefined, now = new Date()): string {
  return targetDate
    ? `learnsync-${def.name}-${targetDate}`
    : `learnsync-${def.name}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export async function startPipelineRun(
  ctx: CliContext,
  client: Client,
  def: PipelineDefinition,
  opts: { targetDate?: string; force: boolean; definition?: PipelineDefinition },
) {
  const targetDate = def.kind === 'nightly' ? (opts.targetDate ?? dayBefore(Date.now())) : undefined;
  const workflowId = runWorkflowId(def, targetDate);
  const input: PipelineRunInput = { pipeline: def.name, targetDate, force: opts.force, definition: opts.definition };
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: PIPELINE_KEY, value: def.name },
    { key: STATUS_KEY, value: 'RUNNING' },
    ...(targetDate ? [{ key: TARGET_DATE_KEY, value: targetDate }] : []),
  ];
  try {
    const handle = await client.workflow.start(runPipeline, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes,
    });
    return { handle, workflowId, targetDate };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UsageError(
        `${workflowId} is already running: follow it in the Web UI or with \`temporal workflow describe ` +
          `-w ${workflowId}\``,
      );
    }
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
