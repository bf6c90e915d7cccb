// The `dev` terminal's feed: one line when a run starts, finishes or fails (pipeline, date, result,
// Web UI link), so a developer sees what schedules and other terminals are doing. It polls
// Temporal's visibility; children of backfills are left out unless they fail (their parent speaks).
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { PIPELINE_KEY, TARGET_DATE_KEY } from '../workflows/search-attributes.js';
import { workflowUrl } from './watch-run.js';

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
  // A backfill continues as new under new run ids: one chain, keyed by its first run id, gets one
  // start line and one end line timed from the first run's start.
  const chainStart = new Map<string, Date>();
  const announced = new Set<string>();
  let stopped = false;
  const poll = async () => {
    const query = `ExecutionStatus = "Running" OR CloseTime >= "${since}"`;
    const listed: WorkflowExecutionInfo[] = [];
    for await (const wf of client.workflow.list({ query })) listed.push(wf);
    const chainOf = (wf: WorkflowExecutionInfo) => wf.raw.firstRunId || wf.runId;
    for (const wf of listed) {
      const known = chainStart.get(chainOf(wf));
      if (!known || wf.startTime < known) chainStart.set(chainOf(wf), wf.startTime);
    }
    for (const wf of listed.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())) {
      const state = wf.status.name;
      if (seen.get(wf.runId) === state) continue;
      const first = !seen.has(wf.runId);
      seen.set(wf.runId, state);
      const chain = chainOf(wf);
      const began = chainStart.get(chain) ?? wf.startTime;
      // Going before us (its first run started earlier): neither it nor its continuations are new.
      if (
        first &&
        state === 'RUNNING' &&
        (began.toISOString() < since || chain !== wf.runId) &&
        !announced.has(chain)
      ) {
        announced.add(chain);
        continue;
      }
      if (state === 'CONTINUED_AS_NEW') {
        if (chain === wf.runId && began.toISOString() >= since && !announced.has(chain) && !wf.parentExecution) {
          announced.add(chain); // its first run came and went between two polls: announce the start now
          opts.print(
            feedLine(
              { ...wf, status: { ...wf.status, name: 'RUNNING' }, closeTime: undefined },
              opts.uiUrl,
              opts.namespace,
            ),
          );
        } else announced.add(chain);
        continue;
      }
      const failed = ['FAILED', 'TIMED_OUT'].includes(state);
      if (wf.parentExecution && !failed) continue;
      if (state === 'RUNNING') {
        if (announced.has(chain)) continue; // the same backfill, continued as new: already announced
        announced.add(chain);
      } else if (!announced.has(chain) && began.toISOString() >= since) {
        // started and finished between two polls: both lines
        opts.print(
          feedLine(
            { ...wf, status: { ...wf.status, name: 'RUNNING' }, closeTime: undefined },
            opts.uiUrl,
            opts.namespace,
          ),
        );
      }
      opts.print(feedLine(wf, opts.uiUrl, opts.namespace, began));
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
