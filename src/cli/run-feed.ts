// The `dev` terminal's feed: one line when a run starts, finishes or fails (pipeline, date, result,
// Web UI link), so a developer sees what schedules and other terminals are doing. It polls
// Temporal's visibility; children of backfills are left out unless they fail (their parent speaks).
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { PIPELINE_KEY, TARGET_DATE_KEY } from '../workflows/search-attributes.js';
import { workflowUrl } from '../runtime/links.js';

const MARK: Record<string, string> = {
  RUNNING: '▸',
  COMPLETED: '✓',
  FAILED: '✗',
  TIMED_OUT: '✗',
  TERMINATED: '⊘',
  CANCELLED: '⊘',
};
const WORD: Record<string, string> = {
  RUNNING: 'started',
  COMPLETED: 'succeeded',
  FAILED: 'FAILED',
  TIMED_OUT: 'TIMED OUT',
  TERMINATED: 'terminated',
  CANCELLED: 'cancelled',
};

/** `startedAt`: when the run began, if before this run id (a backfill that continued as new). */
export function feedLine(
  wf: WorkflowExecutionInfo,
  uiUrl: string | undefined,
  namespace: string,
  startedAt: Date = wf.startTime,
): string {
  const state = wf.status.name;
  const name = wf.typedSearchAttributes.get(PIPELINE_KEY) ?? wf.type;
  const pipeline = wf.type === 'backfillPipeline' ? `backfill of ${name}` : name;
  const date = wf.typedSearchAttributes.get(TARGET_DATE_KEY);
  const took = wf.closeTime ? ` in ${Math.round((wf.closeTime.getTime() - startedAt.getTime()) / 1000)} s` : '';
  const when = (wf.closeTime ?? wf.startTime).toISOString().slice(11, 19);
  const url = workflowUrl(uiUrl, namespace, wf.workflowId);
  const what = `${pipeline}${date ? ` ${date}` : ''} ${WORD[state] ?? state.toLowerCase()}${took}`;
  return `${when} ${MARK[state] ?? '·'} ${what}  ${url ?? wf.workflowId}`;
}

/** Polls every `everyMs` until the returned stop() is called; prints each run's start and end once. */
export function startRunFeed(
  client: Client,
  opts: { print: (line: string) => void; uiUrl?: string; namespace: string; everyMs?: number; since?: Date },
): () => Promise<void> {
  const since = (opts.since ?? new Date()).toISOString();
  const seen = new Map<string, string>();
  // A backfill continues as new under new run ids: while a workflow id's chain is open (started or
  // continued, not yet closed) a new run of it is the same backfill — one start line, one end line
  // timed from the first run's start.
  const open = new Map<string, Date>();
  let stopped = false;
  const poll = async () => {
    const query = `ExecutionStatus = "Running" OR CloseTime >= "${since}"`;
    const listed: WorkflowExecutionInfo[] = [];
    for await (const wf of client.workflow.list({ query })) listed.push(wf);
    for (const wf of listed.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())) {
      const state = wf.status.name;
      if (seen.get(wf.runId) === state) continue;
      const first = !seen.has(wf.runId);
      seen.set(wf.runId, state);
      const chainStart = open.get(wf.workflowId);
      const continued = chainStart !== undefined || Boolean(wf.raw.firstRunId && wf.raw.firstRunId !== wf.runId);
      if (first && state === 'RUNNING' && (wf.startTime.toISOString() < since || continued)) {
        // already going before us, or a continuation of a run we announced: nothing new
        if (chainStart === undefined) open.set(wf.workflowId, wf.startTime);
        continue;
      }
      if (state === 'CONTINUED_AS_NEW') {
        // its first run may have come and gone between two polls: announce the start now
        if (!continued && !wf.parentExecution && wf.startTime.toISOString() >= since) {
          opts.print(
            feedLine(
              { ...wf, status: { ...wf.status, name: 'RUNNING' }, closeTime: undefined },
              opts.uiUrl,
              opts.namespace,
            ),
          );
        }
        if (chainStart === undefined) open.set(wf.workflowId, wf.startTime);
        continue;
      }
      const failed = ['FAILED', 'TIMED_OUT'].includes(state);
      if (wf.parentExecution && !failed) continue;
      if (state === 'RUNNING') {
        open.set(wf.workflowId, wf.startTime);
      } else {
        open.delete(wf.workflowId);
        if (first && !continued && wf.startTime.toISOString() >= since) {
          // started and finished between two polls: both lines
          opts.print(
            feedLine(
              { ...wf, status: { ...wf.status, name: 'RUNNING' }, closeTime: undefined },
              opts.uiUrl,
              opts.namespace,
            ),
          );
        }
      }
      opts.print(feedLine(wf, opts.uiUrl, opts.namespace, chainStart ?? wf.startTime));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll().catch(() => {}); // Temporal restarting: the next poll catches up
      for (let waited = 0; waited < (opts.everyMs ?? 2000) && !stopped; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
