// A backfill is a parent over a date range: one child pipeline run per date, at most
// `concurrency` at a time, continuing as new every `maxChildrenPerRun` children so its
// history stays bounded however long the range.
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  executeChild,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { dateCount, dateRange, isValidDate } from '../pipelines/dates.js';
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
  if (!isValidDate(input.from) || !isValidDate(input.to) || input.from > input.to) {
    throw ApplicationFailure.nonRetryable(`invalid range ${input.from}..${input.to}`, 'ValidationError');
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

  const withAttributes = info.typedSearchAttributes.get(PIPELINE_KEY) !== undefined;
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
        args: [{ pipeline: def.name, targetDate: date, force: input.force ?? false, definition: input.definition }],
        ...(withAttributes && { typedSearchAttributes }),
      });
      state.succeeded++;
      state.rows += result.rows;
    } catch {
      state.failed.push(date);
    } finally {
      running.delete(date);
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
