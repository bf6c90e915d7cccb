// A backfill is a parent over a date range: one child pipeline run per date, at most
// `concurrency` at a time, continuing as new every `maxChildrenPerRun` children so its
// history stays bounded however long the range.
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  executeChild,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { dateCount, dateRange, whyNotADate } from '../pipelines/dates.js';
import { getPipeline } from '../pipelines/registry.js';
import type { BackfillInput, BackfillProgress, BackfillState } from '../pipelines/types.js';
import { runPipeline } from './run-dag.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from './search-attributes.js';

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');

export type BackfillResult = BackfillProgress;

export const DEFAULT_MAX_CHILDREN_PER_RUN = 50;
/** Mirrors LEARNSYNC_BACKFILL_MAX_DATES's default for starts that do not say (the temporal CLI, other clients). */
export const DEFAULT_MAX_BACKFILL_DATES = 3660;

/**
 * Child ids are derived from the parent's id and the date, so a resumed or continued backfill never starts a date
 * twice.
 */
export function backfillChildId(parentWorkflowId: string, date: string): string {
  return `${parentWorkflowId}/${date}`;
}

export async function backfillPipeline(input: BackfillInput): Promise<BackfillResult> {
  const def = input.definition ?? getPipeline(input.pipeline);
  if (!def) throw ApplicationFailure.nonRetryable(`unknown pipeline "${input.pipeline}"`, 'ValidationError');
  if (def.kind !== 'nightly') {
    throw ApplicationFailure.nonRetryable(
      `pipeline ${def.name} is ${def.kind}: only dated pipelines can be backfilled`,
      'ValidationError',
    );
  }
  const problem = rangeProblem(input.from, input.to);
  if (problem) {
    throw ApplicationFailure.nonRetryable(`invalid range ${input.from}..${input.to}: ${problem}`, 'ValidationError');
  }
  const maxDates = input.maxDates ?? DEFAULT_MAX_BACKFILL_DATES;
  const count = dateCount(input.from, input.to);
  if (count > maxDates) {
    throw ApplicationFailure.nonRetryable(
      `backfill ${input.from}..${input.to} covers ${count} dates, over the maximum of ${maxDates}: ` +
        'narrow the range or pass a larger maxDates (learnsync backfill --max-dates N or --yes)',
      'ValidationError',
    );
  }
  const dates = dateRange(input.from, input.to);
  const concurrency = Math.max(1, input.concurrency ?? 4);
  const perRun = Math.max(concurrency, input.maxChildrenPerRun ?? DEFAULT_MAX_CHILDREN_PER_RUN);
  const state: BackfillState = input.state ?? { nextIndex: 0, succeeded: 0, failed: [], rows: 0, runs: 0 };
  const running = new Set<string>();
  const info = workflowInfo();

  setHandler(backfillProgressQuery, () => ({
    pipeline: def.name,
    from: input.from,
    to: input.to,
    total: dates.length,
    done: state.succeeded + state.failed.length,
    succeeded: state.succeeded,
    failed: [...state.failed],
    running: [...running],
    rows: state.rows,
    continuedAsNew: state.runs,
  }));

  const withAttributes = carriesLearnsyncAttributes();
  // A parent started elsewhere (`temporal workflow start`, a schedule) may carry only some of them.
  if (withAttributes) fillSearchAttributes(def.name);
  const runDate = async (date: string) => {
    running.add(date);
    try {
      const typedSearchAttributes: SearchAttributePair[] = withAttributes
        ? [
            { key: PIPELINE_KEY, value: def.name },
            { key: TARGET_DATE_KEY, value: date },
            { key: STATUS_KEY, value: 'RUNNING' },
          ]
        : [];
      const result = await executeChild(runPipeline, {
        workflowId: backfillChildId(info.workflowId, date),
        args: [
          {
            pipeline: def.name,
            targetDate: date,
            force: input.force ?? false,
            definition: input.definition,
            outageWindowMinutes: input.outageWindowMinutes,
          },
        ],
        ...(withAttributes && { typedSearchAttributes }),
        staticSummary: `${def.name} for ${date}`,
        staticDetails: `date ${date} of the backfill ${info.workflowId}; its jobs are in \`learnsync status\``,
      });
      state.succeeded++;
      state.rows += result.rows;
    } catch {
      state.failed.push(date);
    } finally {
      running.delete(date);
      // Shown in the Web UI under the run's summary: how far the backfill is, without a query.
      setCurrentDetails(
        `${state.succeeded + state.failed.length}/${dates.length} dates done: ${state.succeeded} succeeded, ` +
          `${state.failed.length} failed, ${state.rows} rows`,
      );
    }
  };

  const stopAt = Math.min(dates.length, state.nextIndex + perRun);
  const inflight = new Set<Promise<void>>();
  while (state.nextIndex < stopAt) {
    while (inflight.size < concurrency && state.nextIndex < stopAt) {
      const p: Promise<void> = runDate(dates[state.nextIndex++]!).then(() => {
        inflight.delete(p);
      });
      inflight.add(p);
    }
    await Promise.race(inflight);
  }
  // Drain before continuing as new: a child outliving its parent run could be started twice.
  await Promise.all(inflight);

  if (state.nextIndex < dates.length) {
    await continueAsNew<typeof backfillPipeline>({ ...input, state: { ...state, runs: state.runs + 1 } });
  }
  const summary: BackfillResult = {
    pipeline: def.name,
    from: input.from,
    to: input.to,
    total: dates.length,
    done: dates.length,
    succeeded: state.succeeded,
    failed: state.failed,
    running: [],
    rows: state.rows,
    continuedAsNew: state.runs,
  };
  if (withAttributes) upsertSearchAttributes([{ key: STATUS_KEY, value: state.failed.length ? 'FAILED' : 'SUCCESS' }]);
  if (state.failed.length) {
    throw ApplicationFailure.nonRetryable(
      `backfill of ${def.name} failed for ${state.failed.length} of ${dates.length} dates: ` +
        `${[...state.failed].sort().join(', ')}`,
      'BackfillFailed',
      summary,
    );
  }
  return summary;
}

/** Which end of a range is wrong and why, or undefined for a valid range. */
export function rangeProblem(from: string, to: string): string | undefined {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    const why = whyNotADate(String(value));
    if (why) return `${name} "${String(value)}" is not a calendar date (${why})`;
  }
  if (from > to) return `from ${from} is after to ${to}`;
  return undefined;
}

/**
 * The time-skipping test server knows no custom search attributes, so a run started without any
 * of learnsync's sets none; one that carries any of them (the CLI's, a schedule's, or a
 * `temporal workflow start --search-attribute`) gets the rest from its input.
 */
function carriesLearnsyncAttributes(): boolean {
  const attrs = workflowInfo().typedSearchAttributes;
  return [PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY].some((k) => attrs.get(k) !== undefined);
}

function fillSearchAttributes(pipeline: string): void {
  const attrs = workflowInfo().typedSearchAttributes;
  const missing: SearchAttributePair[] = [];
  if (attrs.get(PIPELINE_KEY) !== pipeline) missing.push({ key: PIPELINE_KEY, value: pipeline });
  if (attrs.get(STATUS_KEY) !== 'RUNNING') missing.push({ key: STATUS_KEY, value: 'RUNNING' });
  if (missing.length) upsertSearchAttributes(missing);
}
