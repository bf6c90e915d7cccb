// Follows a running pipeline through its `progress` query: prints each node as its state
// changes and an overall progress line, then the whole DAG as a table with rows and times.
// Following survives Temporal outages (followWorkflow): the run goes on without us, so we wait.
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { NodeProgress, PipelineProgress } from '../pipelines/types.js';
import { retryingFromDescribe, retryingText, type RetryingNode } from '../runtime/retrying.js';
import type { PipelineRunResult } from '../workflows/run-dag.js';
import { progressQuery, runPipeline } from '../workflows/run-dag.js';

const SYMBOL: Record<NodeProgress['state'], string> = {
  pending: '·',
  running: '▸',
  succeeded: '✓',
  skipped: '↷',
  failed: '✗',
  cancelled: '⊘',
};

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export const fmtMs = (ms: number | undefined) =>
  ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
/** 70 s → "1 m 10 s": for elapsed times. */
export const fmtElapsed = (ms: number) =>
  ms < 60_000 ? `${Math.floor(ms / 1000)} s` : `${Math.floor(ms / 60_000)} m ${Math.floor((ms % 60_000) / 1000)} s`;

/** How long followers wait through a Temporal outage before giving up (the run itself goes on). */
export const FOLLOW_OUTAGE_WINDOW_MS = 30 * 60_000;

export function nodeTable(progress: PipelineProgress): string[] {
  const w = Math.max(4, ...progress.nodes.map((n) => n.id.length));
  const lines = [
    `  ${'node'.padEnd(w)}  ${'state'.padEnd(9)}  ${'rows'.padStart(10)} ` +
      ` ${'rejected'.padStart(8)}  ${'wall'.padStart(8)}  ${'activity'.padStart(8)}`,
  ];
  for (const n of progress.nodes) {
    lines.push(
      `${SYMBOL[n.state]} ${n.id.padEnd(w)}  ${n.state.padEnd(9)}  ${fmtInt(n.rows).padStart(10)} ` +
        ` ${fmtInt(n.rejected).padStart(8)}  ${fmtMs(n.durationMs).padStart(8)}  ${fmtMs(n.activityMs).padStart(8)}` +
        (n.error ? `  ${n.error}` : ''),
    );
  }
  return lines;
}

export type FollowEnd = 'closed' | 'interrupted' | 'unreachable';

const errorText = (err: unknown) => {
  let e = err as { message?: string; cause?: unknown } | undefined;
  const first = e?.message ?? String(err);
  while (e?.cause) e = e.cause as typeof e;
  return e?.message && e.message !== first ? `${first}: ${e.message}` : first;
};

/**
 * Polls a workflow until it closes, calling `onPoll` while it runs. A Temporal outage is reported
 * once and waited out for up to `outageWindowMs` — well past the SDK's own give-up point (about
 * 20 s of gRPC retries) — since the run goes on without us. Ends early when `interrupted` resolves.
 */
export async function followWorkflow(
  handle: WorkflowHandle,
  opts: {
    print: (line?: string) => void;
    /** Called with each description while the workflow runs (its pending activities say what retries). */
    onPoll?: (described: WorkflowExecutionDescription) => Promise<void>;
    interrupted?: Promise<unknown>;
    intervalMs?: number;
    outageWindowMs?: number;
  },
): Promise<FollowEnd> {
  let stop = false;
  void opts.interrupted?.then(() => (stop = true));
  let downSince: number | undefined;
  const window = opts.outageWindowMs ?? FOLLOW_OUTAGE_WINDOW_MS;
  // An interrupt answers at once, even while a call hangs (a query waits for a worker to answer it).
  const unlessInterrupted = <T>(p: Promise<T>) => {
    p.catch(() => {});
    return Promise.race([p, opts.interrupted?.then(() => undefined) ?? p]);
  };
  while (!stop) {
    try {
      const d = await unlessInterrupted(handle.describe());
      if (stop || !d) break;
      if (downSince !== undefined) {
        opts.print(`  Temporal is back after ${fmtElapsed(Date.now() - downSince)}: following again`);
        downSince = undefined;
      }
      if (d.status.name !== 'RUNNING') return 'closed';
      await unlessInterrupted(opts.onPoll?.(d).catch(() => {}) ?? Promise.resolve());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw err;
      if (downSince === undefined) {
        downSince = Date.now();
        opts.print(
          `  cannot reach Temporal (${errorText(err)}); the run goes on without us: ` +
            `retrying for up to ${fmtElapsed(window)}`,
        );
      } else if (Date.now() - downSince > window) {
        return 'unreachable';
      }
    }
    if (stop) break;
    await Promise.race([opts.interrupted, new Promise((r) => setTimeout(r, opts.intervalMs ?? 500))]);
  }
  return 'interrupted';
}

/** The closed workflow's result, retried through an outage like followWorkflow. */
export async function closedResult<T>(
  handle: WorkflowHandle,
  outageWindowMs = FOLLOW_OUTAGE_WINDOW_MS,
): Promise<{ ok: true; result: T } | { ok: false; error: string }> {
  const since = Date.now();
  for (;;) {
    try {
      return { ok: true, result: (await handle.result()) as T };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { ok: false, error: err.cause?.message ?? err.message };
      if (err instanceof WorkflowNotFoundError || Date.now() - since > outageWindowMs) {
        return { ok: false, error: errorText(err) };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** "12/25 nodes, 1 m 10 s; longest running: school_active for 19 s (at page 12)", then each
 * retrying node with its last failure, so a source that is down never looks like a hang. */
export function progressLine(
  p: PipelineProgress,
  now: number,
  startedAt: number,
  position?: string,
  retrying: RetryingNode[] = [],
): string {
  const done = p.nodes.filter((n) => !['pending', 'running'].includes(n.state)).length;
  const running = p.nodes.filter((n) => n.state === 'running' && n.startedAt !== undefined);
  const longest = running.sort((a, b) => a.startedAt! - b.startedAt!)[0];
  return (
    `  … ${done}/${p.nodes.length} nodes, ${fmtElapsed(now - startedAt)}` +
    (longest
      ? `; longest running: ${longest.id} for ${fmtElapsed(now - longest.startedAt!)}` +
        `${position ? ` (at ${position})` : ''}`
      : '') +
    retrying.map((r) => `; ${retryingText(r, now)}`).join('')
  );
}

/** The heartbeat position of the pending activity that best matches a running node (its type,
 * scheduled when it started). */
function heartbeatPosition(
  raw: WorkflowExecutionDescription['raw'],
  node: NodeProgress | undefined,
): string | undefined {
  if (!node?.startedAt) return undefined;
  const candidates = (raw.pendingActivities ?? []).filter((a) => a.activityType?.name === node.activity);
  const at = (a: (typeof candidates)[number]) => Number(a.scheduledTime?.seconds ?? 0) * 1000;
  const match = candidates.sort((a, b) => Math.abs(at(a) - node.startedAt!) - Math.abs(at(b) - node.startedAt!))[0];
  const payload = match?.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  const details = defaultPayloadConverter.fromPayload<unknown>(payload);
  const text =
    details && typeof details === 'object'
      ? Object.entries(details)
          .filter(([k, v]) => k !== 'runKey' && v !== null && typeof v !== 'object')
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')
      : String(details);
  if (!text) return undefined;
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export async function watchPipelineRun(
  handle: WorkflowHandle<typeof runPipeline>,
  print: (line?: string) => void,
  opts: { intervalMs?: number; progressEveryMs?: number; interrupted?: Promise<unknown>; outageWindowMs?: number } = {},
): Promise<{
  ok: boolean;
  progress?: PipelineProgress;
  result?: PipelineRunResult;
  error?: string;
  end: FollowEnd;
}> {
  const seen = new Map<string, string>();
  const announce = (p: PipelineProgress) => {
    for (const n of p.nodes) {
      if (seen.get(n.id) === n.state || n.state === 'pending') continue;
      seen.set(n.id, n.state);
      const activity = n.activityMs === undefined ? '' : ` (activity ${fmtMs(n.activityMs)})`;
      const tail =
        n.state === 'running'
          ? ''
          : `  ${fmtInt(n.rows)} rows  ${fmtMs(n.durationMs)}${activity}${n.error ? `  ${n.error}` : ''}`;
      print(`  ${SYMBOL[n.state]} ${n.id} ${n.state}${tail}`);
    }
  };
  const startedAt = Date.now();
  // Node lines say what changed; this line, every progressEveryMs, says where a long run is.
  let lastLine = startedAt;
  let latest: PipelineProgress | undefined;
  const failuresSeen = new Set<string>();
  const end = await followWorkflow(handle, {
    print,
    interrupted: opts.interrupted,
    intervalMs: opts.intervalMs ?? 400,
    outageWindowMs: opts.outageWindowMs,
    onPoll: async (described) => {
      latest = await handle.query(progressQuery);
      announce(latest);
      const running = latest.nodes.filter((n) => n.state === 'running');
      const retrying = retryingFromDescribe(handle.workflowId, described.raw, latest);
      // A new failed attempt is printed at once, not at the next progress line.
      const fresh = retrying.filter((r) => !failuresSeen.has(`${r.nodeId ?? r.activity}#${r.attempt}`));
      for (const r of fresh) failuresSeen.add(`${r.nodeId ?? r.activity}#${r.attempt}`);
      if (fresh.length) {
        for (const r of fresh) print(`  ⟳ ${retryingText(r)}`);
        lastLine = Date.now();
      }
      if (running.length && Date.now() - lastLine >= (opts.progressEveryMs ?? 10_000)) {
        lastLine = Date.now();
        const longest = [...running].sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))[0];
        const position = heartbeatPosition(described.raw, longest);
        const first = Math.min(...latest.nodes.map((n) => n.startedAt ?? Infinity));
        print(
          progressLine(
            latest,
            Date.now(),
            Number.isFinite(first) ? Math.min(first, startedAt) : startedAt,
            position,
            retrying,
          ),
        );
      }
    },
  });
  if (end !== 'closed')
    return {
      ok: false,
      progress: latest,
      end,
      error: end === 'unreachable' ? 'Temporal stayed unreachable' : 'interrupted',
    };
  const outcome = await closedResult<PipelineRunResult>(handle, opts.outageWindowMs);
  if (outcome.ok) {
    announce(outcome.result);
    return { ok: true, progress: outcome.result, result: outcome.result, end };
  }
  let progress: PipelineProgress | undefined;
  try {
    progress = await handle.query(progressQuery);
    announce(progress);
  } catch {
    // the workflow failed before it could answer (e.g. unknown pipeline)
  }
  return { ok: false, progress: progress ?? latest, error: outcome.error, end };
}
