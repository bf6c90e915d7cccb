// Starting runs and backfills, shared by the CLI (`run`, `backfill`) and the HTTP API so that both
// check the same things, derive the same workflow ids and refuse the same duplicates.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { ValidationError } from '../errors.js';
import { dateCount, dayBefore, isValidDate, whyNotADate } from '../pipelines/dates.js';
import { getPipeline, listPipelines } from '../pipelines/registry.js';
import type { PipelineDefinition, PipelineRunInput } from '../pipelines/types.js';
import { backfillPipeline } from '../workflows/backfill.js';
import { planDag } from '../workflows/plan.js';
import { runPipeline } from '../workflows/run-dag.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from '../workflows/search-attributes.js';

/** A run or backfill with the same id is already running; `workflowId` names it. */
export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(
      `${workflowId} is already running: follow it in the Web UI or with ` +
        `\`temporal workflow describe -w ${workflowId}\``,
    );
  }
}

export function requirePipeline(name: string | undefined): PipelineDefinition {
  const names = listPipelines()
    .map((p) => p.name)
    .join(', ');
  if (!name) throw new ValidationError(`name a pipeline: one of ${names}`);
  const def = getPipeline(name);
  if (!def) throw new ValidationError(`unknown pipeline "${name}": known pipelines are ${names}`);
  planDag(def);
  return def;
}

export function optionalDate(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isValidDate(value)) {
    const why = typeof value === 'string' ? whyNotADate(value) : undefined;
    throw new ValidationError(
      `${flag} must be a calendar date as YYYY-MM-DD, got "${String(value)}"${why ? `: ${why}` : ''}`,
    );
  }
  return value;
}

export function requireDate(value: unknown, flag: string): string {
  const d = optionalDate(value, flag);
  if (!d) throw new ValidationError(`${flag} YYYY-MM-DD is required`);
  return d;
}

export function positiveInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new ValidationError(`${flag} must be a whole number from 1 to 1000, got "${String(value)}"`);
  return n;
}

export interface RunRequest {
  def: PipelineDefinition;
  targetDate?: string;
  force: boolean;
}

/** `learnsync run <pipeline> [--date] [--force]` and `POST /api/pipelines/:name/runs` alike. */
export function checkRunRequest(
  name: string | undefined,
  date: unknown,
  force: boolean,
  dateFlag = '--date',
): RunRequest {
  const def = requirePipeline(name);
  const targetDate = optionalDate(date, dateFlag);
  if (def.kind === 'incremental' && targetDate)
    throw new ValidationError(`${def.name} is incremental and takes no ${dateFlag}: it reads from its stored cursors`);
  return { def, targetDate, force };
}

export interface BackfillRequest {
  def: PipelineDefinition;
  from: string;
  to: string;
  concurrency: number;
  force: boolean;
  total: number;
  /** The bound the request was checked against; the workflow refuses ranges over it too. */
  maxDates: number;
}

/**
 * `learnsync backfill` and `POST /api/pipelines/:name/backfills` alike: a nightly pipeline, a
 * calendar range, and no more than `defaultMaxDates` (LEARNSYNC_BACKFILL_MAX_DATES) dates unless
 * the caller raises the bound (--max-dates N) or confirms (--yes).
 */
export function checkBackfillRequest(
  name: string | undefined,
  raw: { from?: unknown; to?: unknown; concurrency?: unknown; force?: boolean; maxDates?: unknown; yes?: boolean },
  defaultMaxDates: number,
  flags = { from: '--from', to: '--to', concurrency: '--concurrency', maxDates: '--max-dates', yes: '--yes' },
): BackfillRequest {
  const def = requirePipeline(name);
  if (def.kind !== 'nightly')
    throw new ValidationError(`${def.name} is ${def.kind}: only dated pipelines can be backfilled`);
  const from = requireDate(raw.from, flags.from);
  const to = requireDate(raw.to, flags.to);
  if (from > to) throw new ValidationError(`${flags.from} ${from} is after ${flags.to} ${to}`);
  const concurrency = positiveInt(raw.concurrency, flags.concurrency, 4);
  const total = dateCount(from, to);
  const maxDates = raw.yes === true ? total : positiveInt(raw.maxDates, flags.maxDates, defaultMaxDates);
  if (total > maxDates) {
    const n = (x: number) => x.toLocaleString('en-US');
    throw new ValidationError(
      `${from}..${to} is ${n(total)} dates, over the maximum of ${n(maxDates)} (LEARNSYNC_BACKFILL_MAX_DATES): ` +
        `check the range, or confirm with ${flags.maxDates} ${total} or ${flags.yes}`,
    );
  }
  return { def, from, to, concurrency, force: raw.force === true, total, maxDates };
}

export function runWorkflowId(def: PipelineDefinition, targetDate: string | undefined, now = new Date()): string {
  return targetDate
    ? `learnsync-${def.name}-${targetDate}`
    : `learnsync-${def.name}-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export const backfillWorkflowId = (pipeline: string, from: string, to: string) =>
  `learnsync-backfill-${pipeline}-${from}-${to}`;

/** Starts one run; a nightly run without a date is for yesterday (UTC). Throws AlreadyRunningError. */
export async function startPipelineRun(
  client: Client,
  taskQueue: string,
  def: PipelineDefinition,
  opts: { targetDate?: string; force: boolean; definition?: PipelineDefinition; outageWindowMinutes?: number },
) {
  const targetDate = def.kind === 'nightly' ? (opts.targetDate ?? dayBefore(Date.now())) : undefined;
  const workflowId = runWorkflowId(def, targetDate);
  const input: PipelineRunInput = {
    pipeline: def.name,
    targetDate,
    force: opts.force,
    definition: opts.definition,
    // How long infrastructure errors are retried (RETRY_OUTAGE_WINDOW_MINUTES): workflows cannot read the env.
    ...(opts.outageWindowMinutes !== undefined && { outageWindowMinutes: opts.outageWindowMinutes }),
  };
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: PIPELINE_KEY, value: def.name },
    { key: STATUS_KEY, value: 'RUNNING' },
    ...(targetDate ? [{ key: TARGET_DATE_KEY, value: targetDate }] : []),
  ];
  try {
    const handle = await client.workflow.start(runPipeline, {
      taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes,
      // What the Web UI shows for the run, beside its id.
      staticSummary: `${def.name}${targetDate ? ` for ${targetDate}` : ''}${opts.force ? ' (forced)' : ''}`,
      staticDetails: 'started by learnsync (CLI or API); its jobs are in `learnsync status`',
    });
    return { handle, workflowId, targetDate };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new AlreadyRunningError(workflowId);
    throw err;
  }
}

/** Starts a backfill; the same range of the same pipeline while one runs throws AlreadyRunningError. */
export async function startBackfill(
  client: Client,
  taskQueue: string,
  req: BackfillRequest,
  outageWindowMinutes?: number,
) {
  const workflowId = backfillWorkflowId(req.def.name, req.from, req.to);
  try {
    const handle = await client.workflow.start(backfillPipeline, {
      taskQueue,
      workflowId,
      args: [
        {
          pipeline: req.def.name,
          from: req.from,
          to: req.to,
          concurrency: req.concurrency,
          force: req.force,
          maxDates: req.maxDates,
          ...(outageWindowMinutes !== undefined && { outageWindowMinutes }),
        },
      ],
      typedSearchAttributes: [
        { key: PIPELINE_KEY, value: req.def.name },
        { key: STATUS_KEY, value: 'RUNNING' },
      ],
      staticSummary: `backfill of ${req.def.name}, ${req.from}..${req.to} (${req.total} dates)`,
      staticDetails: 'each date is a child run `<this id>/<date>`; progress in the `progress` query',
    });
    return { handle, workflowId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new AlreadyRunningError(workflowId);
    throw err;
  }
}
