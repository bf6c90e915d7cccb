// The one generic workflow: runs any pipeline DAG. Independent nodes run in parallel, a node
// starts when all its dependencies have finished, and a failed node cancels only its dependents.
import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { dayBefore, isValidDate, whyNotADate } from '../pipelines/dates.js';
import { getPipeline } from '../pipelines/registry.js';
import type {
  NodeActivity,
  NodeProgress,
  PipelineDefinition,
  PipelineNode,
  PipelineProgress,
  PipelineRunInput,
  RunStatus,
} from '../pipelines/types.js';
import { planDag } from './plan.js';
import { activityOptionsFor } from './retry-classes.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from './search-attributes.js';

export const progressQuery = defineQuery<PipelineProgress>('progress');

export interface PipelineRunResult extends PipelineProgress {
  rows: number;
  rejected: number;
}

export async function runPipeline(input: PipelineRunInput): Promise<PipelineRunResult> {
  const def = resolveDefinition(input);
  const targetDate = resolveTargetDate(def, input.targetDate);
  const force = input.force ?? false;

  const progress: PipelineProgress = {
    pipeline: def.name,
    targetDate,
    status: 'RUNNING',
    nodes: def.nodes.map((n) => ({ id: n.id, activity: n.activity, state: 'pending', rows: 0, rejected: 0 })),
  };
  const byId = new Map(progress.nodes.map((p) => [p.id, p]));
  setHandler(progressQuery, () => progress);
  setStatus('RUNNING', targetDate);

  // Each node's promise settles with its final state; dependents await their inputs' promises.
  const finished = new Map<string, Promise<NodeProgress['state']>>();
  const nodeById = new Map(def.nodes.map((n) => [n.id, n]));
  const run = (node: PipelineNode): Promise<NodeProgress['state']> => {
    let p = finished.get(node.id);
    if (!p) {
      p = runNode(node, (id) => run(nodeById.get(id)!));
      finished.set(node.id, p);
    }
    return p;
  };

  async function runNode(node: PipelineNode, dep: (id: string) => Promise<NodeProgress['state']>) {
    const me = byId.get(node.id)!;
    const depStates = await Promise.all((node.dependsOn ?? []).map(dep));
    if (depStates.some((s) => s === 'failed' || s === 'cancelled')) {
      me.state = 'cancelled';
      me.error = 'an upstream node failed';
      return me.state;
    }
    me.state = 'running';
    me.startedAt = Date.now();
    try {
      // The node id is the activity's summary: the Web UI's timeline and history name each bar by its node.
      const options = { ...activityOptionsFor(node, input.outageWindowMinutes), summary: node.id };
      const activity = proxyActivities<Record<string, NodeActivity>>(options)[node.activity]!;
      const result = await activity({
        pipeline: def.name,
        nodeId: node.id,
        targetDate,
        force,
        params: node.input ?? {},
      });
      me.rows = result.rows;
      me.rejected = result.rejected ?? 0;
      me.activityMs = result.activityMs;
      me.state = result.skipped ? 'skipped' : 'succeeded';
    } catch (err) {
      me.state = 'failed';
      me.error = rootMessage(err);
    }
    me.finishedAt = Date.now();
    me.durationMs = me.finishedAt - me.startedAt;
    // Shown under the run's summary in the Web UI.
    const done = progress.nodes.filter((n) => !['pending', 'running'].includes(n.state)).length;
    setCurrentDetails(`${done}/${progress.nodes.length} nodes done`);
    return me.state;
  }

  await Promise.all(def.nodes.map(run));

  const failed = progress.nodes.filter((n) => n.state === 'failed');
  progress.status = failed.length ? 'FAILED' : 'SUCCESS';
  setStatus(progress.status);
  if (failed.length) {
    throw ApplicationFailure.nonRetryable(
      `pipeline ${def.name}${targetDate ? ` for ${targetDate}` : ''} failed at ` +
        `${failed.map((n) => `${n.id} (${n.error})`).join('; ')}`,
      'PipelineFailed',
      progress,
    );
  }
  return {
    ...progress,
    rows: progress.nodes.reduce((s, n) => s + n.rows, 0),
    rejected: progress.nodes.reduce((s, n) => s + n.rejected, 0),
  };
}

function resolveDefinition(input: PipelineRunInput): PipelineDefinition {
  const def = input.definition ?? getPipeline(input.pipeline);
  if (!def) throw ApplicationFailure.nonRetryable(`unknown pipeline "${input.pipeline}"`, 'ValidationError');
  try {
    planDag(def);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'ValidationError');
  }
  return def;
}

function resolveTargetDate(def: PipelineDefinition, requested: string | undefined): string | undefined {
  if (def.kind === 'incremental') return undefined;
  // Workflow time is deterministic, so a scheduled nightly run always means "yesterday" of its own start.
  const date = requested ?? dayBefore(workflowInfo().startTime.getTime());
  if (!isValidDate(date)) {
    throw ApplicationFailure.nonRetryable(`invalid target date "${date}": ${whyNotADate(date)}`, 'ValidationError');
  }
  return date;
}

/**
 * The time-skipping test server has no custom search attributes: only runs started with them
 * upsert. A run started with the pipeline only (a schedule's) gets its target date here.
 */
function setStatus(status: RunStatus, targetDate?: string): void {
  const attrs = workflowInfo().typedSearchAttributes;
  if (attrs.get(PIPELINE_KEY) === undefined) return;
  const dateMissing = targetDate !== undefined && attrs.get(TARGET_DATE_KEY) === undefined;
  upsertSearchAttributes([
    { key: STATUS_KEY, value: status },
    ...(dateMissing ? [{ key: TARGET_DATE_KEY, value: targetDate }] : []),
  ]);
}

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
