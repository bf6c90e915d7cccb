// Which nodes of a running workflow are retrying, and why: read from Temporal's pending-activity
// info (describe → pendingActivities: lastFailure, attempt, next attempt, expiration), the one
// place that knows while the retries go on. The follower, `status`, the API and /metrics all use
// this, so a source that is down never looks like a hang.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NodeProgress, PipelineProgress } from '../pipelines/types.js';
import { outageKindOfMessage } from '../runtime/error-causes.js';
import { redactSecrets } from '../secrets.js';
import { PIPELINE_KEY } from '../search-attributes.js';

export interface RetryingNode {
  workflowId: string;
  /** The node of the DAG (null when the run's progress could not be read to tell same-type nodes apart). */
  nodeId: string | null;
  activity: string;
  /** The attempt now scheduled or running (2 = first retry). */
  attempt: number;
  /** null: unlimited attempts, bounded by `givesUpAt`. */
  maximumAttempts: number | null;
  lastFailure: string;
  /** database | network | source | timeout (an outage), or the failure's type (e.g. Error). */
  cause: string;
  lastAttemptAt: string | null;
  nextRetryAt: string | null;
  /** When Temporal stops retrying (schedule-to-close expiration). */
  givesUpAt: string | null;
  /** When the node's first attempt was scheduled (its progress start, else expiration − schedule-to-close). */
  retryingSince: string | null;
}

type Raw = Awaited<ReturnType<WorkflowHandle['describe']>>['raw'];
type Pending = NonNullable<Raw['pendingActivities']>[number];
type Stamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

const ms = (t: Stamp) => (t?.seconds == null ? undefined : Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());

function failureText(p: Pending): { message: string; type: string } {
  let f = p.lastFailure;
  const type = f?.applicationFailureInfo?.type || 'Error';
  let message = f?.message ?? '';
  // The outermost message names the cause; an inner one may add the underlying error.
  while (f?.cause) {
    f = f.cause;
    if (f.message && !message.includes(f.message)) message = `${message}: ${f.message}`;
  }
  return { message: redactSecrets(message), type };
}

/** The cause label of a recorded failure: the outage its message names; a connector's
 * RetryableError is its source not answering (network) or answering with an error (source). */
function causeOf(message: string, type: string): string {
  const kind = outageKindOfMessage(message);
  if (kind) return kind;
  if (type === 'RetryableError') return /\bno answer\b/.test(message) ? 'network' : 'source';
  return type;
}

/** Pending activities that have failed at least once, matched to the running nodes of `progress`:
 * same activity type, in scheduling order (activity ids grow as the workflow schedules). */
export function retryingFromDescribe(
  workflowId: string,
  raw: Raw,
  progress: PipelineProgress | undefined,
): RetryingNode[] {
  const pending = (raw.pendingActivities ?? []).filter((p) => p.lastFailure);
  const byType = new Map<string, NodeProgress[]>();
  for (const n of progress?.nodes ?? []) {
    if (n.state !== 'running') continue;
    byType.set(n.activity, [...(byType.get(n.activity) ?? []), n]);
  }
  for (const list of byType.values()) list.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  const allOfType = (type: string) =>
    (raw.pendingActivities ?? [])
      .filter((p) => p.activityType?.name === type)
      .sort((a, b) => Number(a.activityId) - Number(b.activityId) || 0);
  return pending.map((p) => {
    const activity = p.activityType?.name ?? '?';
    const nodes = byType.get(activity) ?? [];
    const node = nodes.length === 1 ? nodes[0] : nodes[allOfType(activity).indexOf(p)];
    const { message, type } = failureText(p);
    const expires = ms(p.expirationTime);
    const scheduleToClose = ms(p.activityOptions?.scheduleToCloseTimeout as Stamp);
    const since = node?.startedAt ?? (expires !== undefined && scheduleToClose ? expires - scheduleToClose : undefined);
    return {
      workflowId,
      nodeId: node?.id ?? null,
      activity,
      attempt: p.attempt ?? 1,
      maximumAttempts: p.maximumAttempts ? p.maximumAttempts : null,
      lastFailure: message,
      cause: causeOf(message, type),
      lastAttemptAt: iso(ms(p.lastAttemptCompleteTime)),
      nextRetryAt: iso(ms(p.nextAttemptScheduleTime)),
      givesUpAt: iso(expires),
      retryingSince: iso(since),
    };
  });
}

/** The retrying nodes of one workflow; `progress` (its query answer) names the nodes when given. */
export async function retryingNodes(
  client: Client,
  workflowId: string,
  progress?: PipelineProgress,
): Promise<RetryingNode[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  return retryingFromDescribe(workflowId, raw, progress);
}

/** A workflow's progress if a worker answers within `withinMs`, else undefined (no worker, or busy). */
export async function quickProgress(
  client: Client,
  workflowId: string,
  withinMs = 3000,
): Promise<PipelineProgress | undefined> {
  try {
    return await client.connection.withDeadline(Date.now() + withinMs, () =>
      client.workflow.getHandle(workflowId).query<PipelineProgress>('progress'),
    );
  } catch {
    return undefined;
  }
}

/** "school_reference retrying (attempt 4, next in 30 s, gives up 03:12 UTC): source unavailable: …" */
export function retryingText(r: RetryingNode, now = Date.now()): string {
  const next = r.nextRetryAt ? Date.parse(r.nextRetryAt) - now : undefined;
  const when =
    next === undefined ? 'running again now' : next <= 0 ? 'next attempt due' : `next in ${Math.ceil(next / 1000)} s`;
  const gives = r.givesUpAt ? `, gives up ${r.givesUpAt.slice(0, 16).replace('T', ' ')} UTC` : '';
  const max = r.maximumAttempts ? ` of ${r.maximumAttempts}` : '';
  const failure = r.lastFailure.length > 160 ? `${r.lastFailure.slice(0, 157)}…` : r.lastFailure;
  return `${r.nodeId ?? r.activity} retrying (attempt ${r.attempt}${max}, ${when}${gives}): ${failure}`;
}

/** The retrying nodes of a backfill: those of its running children (`<parent id>/<date>`). */
export async function retryingInBackfill(
  client: Client,
  parentId: string,
  runningDates: string[],
): Promise<RetryingNode[]> {
  const perChild = await Promise.all(
    runningDates.slice(0, 20).map((d) => retryingNodes(client, `${parentId}/${d}`).catch(() => [])),
  );
  return perChild.flat();
}

/** Every running top-level run's retrying nodes (a backfill's from its running dates), by pipeline. */
export async function retryingByPipeline(
  client: Client,
  opts: { nodeIds?: boolean } = {},
): Promise<Map<string, RetryingNode[]>> {
  const pipelineOf = new Map<string, string>();
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    const top = wf.parentExecution?.workflowId ?? wf.workflowId;
    if (!wf.parentExecution) pipelineOf.set(wf.workflowId, wf.typedSearchAttributes.get(PIPELINE_KEY) ?? wf.type);
    if (ids.length < 100) ids.push(`${top}\n${wf.workflowId}`);
  }
  const out = new Map<string, RetryingNode[]>();
  await Promise.all(
    ids.map(async (pair) => {
      const [top, id] = pair.split('\n') as [string, string];
      // Node ids need the run's progress query (a worker answers it); counts by cause do not.
      const progress = opts.nodeIds === false ? undefined : await quickProgress(client, id, 2000);
      const list = await retryingNodes(client, id, progress).catch(() => []);
      const pipeline = pipelineOf.get(top);
      if (pipeline && list.length) out.set(pipeline, [...(out.get(pipeline) ?? []), ...list]);
    }),
  );
  return out;
}
