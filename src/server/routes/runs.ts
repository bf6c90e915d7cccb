// GET /api/runs (runs and backfills from Temporal's visibility, with rows from the ledger) and
// GET /api/runs/:workflowId (one run: its DAG with node states from the workflow's `progress`
// query, or a backfill's progress, plus the ledger rows it wrote).
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  quickProgress,
  retryingFromDescribe,
  retryingInBackfill,
  retryingNodes,
  type RetryingNode,
} from '../../runtime/retrying.js';
import type { FastifyInstance } from 'fastify';
import { workflowUrl } from '../../runtime/links.js';
import { getPipeline, listPipelines } from '../../pipelines/registry.js';
import type { BackfillProgress, PipelineProgress } from '../../pipelines/types.js';
import { PIPELINE_KEY, STATUS_KEY, TARGET_DATE_KEY } from '../../workflows/search-attributes.js';
import type { ServerDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';
import { jobRunsOf, runTotals } from '../queries.js';
import { PIPELINE_NAME } from './pipelines.js';

const STATUSES = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
} as const;
const WORKFLOW_ID = { type: 'string', pattern: '^[A-Za-z0-9][\\w.:+/-]{0,199}$' } as const;

function runSummary(w: Omit<WorkflowExecutionInfo, 'raw'>) {
  return {
    workflowId: w.workflowId,
    runId: w.runId,
    kind: w.type === 'backfillPipeline' ? 'backfill' : 'run',
    pipeline: w.typedSearchAttributes.get(PIPELINE_KEY) ?? null,
    targetDate: w.typedSearchAttributes.get(TARGET_DATE_KEY) ?? null,
    status: w.status.name,
    pipelineStatus: w.typedSearchAttributes.get(STATUS_KEY) ?? null,
    startTime: w.startTime.toISOString(),
    closeTime: w.closeTime?.toISOString() ?? null,
    durationMs: w.closeTime ? w.closeTime.getTime() - w.startTime.getTime() : null,
  };
}

/** A backfill's start and duration over all its executions (continue-as-new starts a new one with
 * its own start time): the workflow's time, not its last segment's. */
async function wholeRun<T extends ReturnType<typeof runSummary>>(client: Client, run: T): Promise<T> {
  if (run.kind !== 'backfill' || !/^[\w.:+/-]+$/.test(run.workflowId)) return run;
  const executions: Array<{ runId: string; start: number; status: string }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = "${run.workflowId}"` }))
    executions.push({ runId: w.runId, start: w.startTime.getTime(), status: w.status.name });
  executions.sort((a, b) => b.start - a.start);
  // Walk back from this execution through the ones that continued into it (an earlier backfill of
  // the same range that ended for good is another run).
  let i = executions.findIndex((e) => e.runId === run.runId);
  let first = Date.parse(run.startTime);
  while (i >= 0 && executions[i + 1]?.status === 'CONTINUED_AS_NEW') first = executions[++i]!.start;
  const startTime = new Date(first).toISOString();
  return { ...run, startTime, durationMs: run.closeTime ? Date.parse(run.closeTime) - first : null };
}

/** A running run's retrying nodes; [] when Temporal or the worker cannot say in time. */
async function retryingOfRun(client: Client, workflowId: string, kind: string): Promise<RetryingNode[]> {
  try {
    if (kind === 'backfill') {
      const p = await quickQuery(client, () =>
        client.workflow.getHandle(workflowId).query<BackfillProgress>('progress'),
      );
      return p ? await retryingInBackfill(client, workflowId, p.running) : [];
    }
    return await retryingNodes(client, workflowId, await quickProgress(client, workflowId, 2000));
  } catch {
    return [];
  }
}

/** A query answered within a few seconds, or undefined (no worker to answer, or between runs). */
async function quickQuery<T>(client: Client, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await client.connection.withDeadline(Date.now() + 5000, run);
  } catch {
    return undefined;
  }
}

export function registerRunRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const link = (id: string) => workflowUrl(deps.uiUrl, deps.config.temporal.namespace, id) ?? null;

  app.get<{
    Querystring: { pipeline?: string; status?: keyof typeof STATUSES; limit?: number; kind?: 'run' | 'backfill' };
  }>(
    '/api/runs',
    {
      config: { access: 'read' },
      schema: {
        summary: 'recent runs and backfills, newest first',
        tags: ['runs'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            pipeline: PIPELINE_NAME,
            status: { type: 'string', enum: Object.keys(STATUSES) },
            kind: { type: 'string', enum: ['run', 'backfill'] },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
        },
      },
    },
    async (req) => {
      const { pipeline, status, kind, limit = 50 } = req.query;
      if (pipeline && !getPipeline(pipeline))
        throw new HttpError(
          404,
          'not_found',
          `unknown pipeline "${pipeline}": known pipelines are ${listPipelines()
            .map((p) => p.name)
            .join(', ')}`,
        );
      // Every value below is either from a fixed list or a registered pipeline name:
      // nothing of the caller's is spliced in raw.
      const clauses = [
        kind === 'run'
          ? 'WorkflowType = "runPipeline"'
          : kind === 'backfill'
            ? 'WorkflowType = "backfillPipeline"'
            : '(WorkflowType = "runPipeline" OR WorkflowType = "backfillPipeline")',
      ];
      if (pipeline) clauses.push(`${PIPELINE_KEY.name} = "${pipeline}"`);
      if (status) clauses.push(`ExecutionStatus = "${STATUSES[status]}"`);
      const client = await deps.temporal();
      const runs: ReturnType<typeof runSummary>[] = [];
      for await (const w of client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
        // A backfill that continued as new is one run: its newest execution, timed from its first.
        if (w.status.name === 'CONTINUED_AS_NEW' || runs.some((r) => r.workflowId === w.workflowId)) continue;
        runs.push(await wholeRun(client, runSummary(w)));
        if (runs.length >= limit) break;
      }
      const totals = await runTotals(
        deps.warehouse,
        runs.map((r) => r.runId),
      );
      // What each running run is retrying (a backfill: its running dates), as on its own page.
      const retrying = new Map(
        await Promise.all(
          runs
            .filter((r) => r.status === 'RUNNING')
            .map(async (r) => [r.workflowId, await retryingOfRun(client, r.workflowId, r.kind)] as const),
        ),
      );
      return {
        runs: runs.map((r) => {
          const t = totals.get(r.runId);
          return {
            ...r,
            retrying: retrying.get(r.workflowId) ?? [],
            rows: t?.rows ?? 0,
            rejected: t?.rejected ?? 0,
            failedJobs: t?.failed_jobs ?? 0,
            webUrl: link(r.workflowId),
          };
        }),
      };
    },
  );

  app.get<{ Params: { workflowId: string } }>(
    '/api/runs/:workflowId',
    {
      config: { access: 'read' },
      schema: {
        summary: 'one run: the DAG with node states and timings (or a backfill with its progress) and its ledger rows',
        tags: ['runs'],
        params: { type: 'object', properties: { workflowId: WORKFLOW_ID }, required: ['workflowId'] },
      },
    },
    async (req) => {
      const client = await deps.temporal();
      const handle = client.workflow.getHandle(req.params.workflowId);
      let info: WorkflowExecutionDescription;
      try {
        info = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw new HttpError(404, 'not_found', `no workflow ${req.params.workflowId}`);
        throw err;
      }
      if (info.type !== 'runPipeline' && info.type !== 'backfillPipeline')
        throw new HttpError(404, 'not_found', `${req.params.workflowId} is not a learnsync run`);
      // The worker build (LEARNSYNC_BUILD_ID) that completed the run's latest workflow task: during a
      // rollout the dashboard shows which runs the old build still serves.
      const stamp = info.raw.workflowExecutionInfo;
      const workerBuildId =
        stamp?.versioningInfo?.deploymentVersion?.buildId || stamp?.mostRecentWorkerVersionStamp?.buildId || null;
      const summary = { ...(await wholeRun(client, runSummary(info))), webUrl: link(info.workflowId), workerBuildId };
      // The ledger rows of this run (the latest with this id), not of every run the id ever had.
      const jobs = await jobRunsOf(deps.warehouse, info.workflowId, info.runId);
      if (info.type === 'backfillPipeline') {
        const progress = await quickQuery(client, () => handle.query<BackfillProgress>('progress'));
        const retrying = progress ? await retryingInBackfill(client, info.workflowId, progress.running) : [];
        return { ...summary, backfill: progress ?? null, retrying, jobs };
      }
      const progress = await quickQuery(client, () => handle.query<PipelineProgress>('progress'));
      // Nodes retrying after a failure: last failure, attempt, next retry, give-up time.
      const retrying = info.status.name === 'RUNNING' ? retryingFromDescribe(info.workflowId, info.raw, progress) : [];
      const def = getPipeline(progress?.pipeline ?? String(summary.pipeline));
      const deps_ = new Map(def?.nodes.map((n) => [n.id, n.dependsOn ?? []]));
      return {
        ...summary,
        pipeline: progress?.pipeline ?? summary.pipeline,
        targetDate: progress?.targetDate ?? summary.targetDate,
        dag: progress
          ? {
              status: progress.status,
              nodes: progress.nodes.map((n) => ({
                ...n,
                dependsOn: deps_.get(n.id) ?? [],
                retrying: retrying.find((r) => r.nodeId === n.id) ?? null,
              })),
            }
          : null,
        retrying,
        jobs,
      };
    },
  );
}
