// What `learnsync status` knows, as one object with stable camelCase keys (its `--json` form):
// one row per workflow run from the ledger (SKIPPED-only runs counted, not listed), the daily
// success rate over jobs (a job retried three times counts once, by its final attempt), running
// workflows, standing alerts and each family's section. A part that cannot be read (warehouse or
// Temporal unreachable) is null and named in `unreachable`; the rest is still there.
import type { Client } from '@temporalio/client';
import type { Pool } from '../connectors/postgres.js';
import { alertList, type AlertView } from '../pipelines/alerts/view.js';
import { dailySuccessRate, FINAL_ATTEMPTS, type DailyRate } from '../runtime/ledger/success-rate.js';
import { quickProgress, retryingNodes, type RetryingNode } from '../runtime/retrying.js';
import { PIPELINE_KEY, TARGET_DATE_KEY } from '../workflows/search-attributes.js';
import { statusSectionKey, STATUS_SECTIONS } from './status-sections.js';

export interface WorkflowRunRow {
  /** `backfill`: the children of one backfill parent, summed, with `targetDate` as from..to. */
  kind: 'run' | 'backfill';
  dates: number;
  workflowId: string | null;
  /** The Temporal run: one row per run, even when runs share a workflow id (a forced rerun). */
  runId: string | null;
  pipeline: string | null;
  targetDate: string | null;
  state: 'SUCCESS' | 'FAILED' | 'RUNNING' | 'SKIPPED';
  jobs: number;
  failedJobs: number;
  rows: number;
  rejected: number;
  durationMs: number | null;
  startedAt: string;
  error: string | null;
}

export type { DailyRate } from '../runtime/ledger/success-rate.js';

export interface RunningWorkflow {
  workflowId: string;
  type: string;
  pipeline: string | null;
  targetDate: string | null;
  startedAt: string;
  /** The worker build (LEARNSYNC_BUILD_ID) that completed its latest workflow task; null before its first. */
  workerBuildId: string | null;
  /** Nodes retrying after a failure (a backfill's: those of its running dates), read from Temporal. */
  retrying: RetryingNode[];
}

/** One live worker build and how many running top-level workflows it ran last (issue 21: during a rollout, two). */
export interface WorkerVersionUse {
  deploymentName: string | null;
  buildId: string;
  workflows: number;
}

export interface StatusReport {
  recentRuns: WorkflowRunRow[] | null;
  skippedRuns: number | null;
  dailySuccessRate: DailyRate[] | null;
  runningWorkflows: RunningWorkflow[] | null;
  /** Running children of backfills, counted rather than listed. */
  runningBackfillChildren: number | null;
  /** Which worker builds run the running workflows; more than one while a deploy drains. */
  workerVersions: WorkerVersionUse[] | null;
  /** The open alerts: the same list as GET /api/alerts?open=true and the dashboard (alerts/view.ts). */
  alerts: AlertView[] | null;
  sections: Record<string, unknown>;
  unreachable: { warehouse?: string; temporal?: string };
}

export async function workflowRuns(pool: Pool, limit: number): Promise<{ runs: WorkflowRunRow[]; skipped: number }> {
  const { rows } = await pool.query<WorkflowRunRow & { skippedJobs: number; runningJobs: number }>(
    `WITH final AS (${FINAL_ATTEMPTS}),
     -- A run's duration is its workflow run's time: from its first attempt's start to its last end.
     spans AS (SELECT coalesce(workflow_id, '') AS wf, coalesce(workflow_run_id, '') AS run, target_date,
                      min(started_at) AS first_start, max(coalesce(completed_at, started_at)) AS last_end
                 FROM etl_job_runs WHERE started_at >= now() - interval '7 days'
                GROUP BY coalesce(workflow_id, ''), coalesce(workflow_run_id, ''), target_date)
     SELECT workflow_id AS "workflowId", workflow_run_id AS "runId", max(pipeline) AS pipeline,
            to_char(final.target_date, 'YYYY-MM-DD') AS "targetDate",
            count(*)::int AS jobs,
            count(*) FILTER (WHERE status = 'FAILED')::int AS "failedJobs",
            count(*) FILTER (WHERE status = 'SKIPPED')::int AS "skippedJobs",
            count(*) FILTER (WHERE status = 'RUNNING')::int AS "runningJobs",
            coalesce(sum(rows_processed), 0)::float8 AS rows,
            coalesce(sum(rows_rejected), 0)::float8 AS rejected,
            (extract(epoch FROM max(s.last_end) - min(s.first_start)) * 1000)::float8 AS "durationMs",
            min(s.first_start) AS "startedAt",
            (array_agg(job_name || ': ' || coalesce(error_message, 'failed') ORDER BY final.started_at DESC)
               FILTER (WHERE status = 'FAILED'))[1] AS error
       FROM final JOIN spans s ON s.wf = coalesce(final.workflow_id, '')
                              AND s.run = coalesce(final.workflow_run_id, '')
                              AND s.target_date IS NOT DISTINCT FROM final.target_date
       GROUP BY workflow_id, workflow_run_id, final.target_date
       ORDER BY min(s.first_start) DESC`,
  );
  const all = rows.map((r) => ({
    kind: 'run' as const,
    dates: 1,
    workflowId: r.workflowId,
    runId: r.runId,
    pipeline: r.pipeline,
    targetDate: r.targetDate,
    state: (r.failedJobs
      ? 'FAILED'
      : r.runningJobs
        ? 'RUNNING'
        : r.skippedJobs === r.jobs
          ? 'SKIPPED'
          : 'SUCCESS') as WorkflowRunRow['state'],
    jobs: r.jobs,
    failedJobs: r.failedJobs,
    rows: r.rows,
    rejected: r.rejected,
    durationMs: r.durationMs === null ? null : Math.round(r.durationMs),
    startedAt: new Date(r.startedAt).toISOString(),
    error: r.error,
  }));
  const grouped = groupBackfills(all);
  const listed = grouped.filter((r) => r.state !== 'SKIPPED');
  return { runs: listed.slice(0, limit), skipped: grouped.length - listed.length };
}

/** A backfill is one workflow run to its user: its children (`<parent id>/<date>`) become one row
 * with the date range. */
function groupBackfills(runs: WorkflowRunRow[]): WorkflowRunRow[] {
  const out: WorkflowRunRow[] = [];
  const parents = new Map<string, WorkflowRunRow>();
  for (const r of runs) {
    const parentId = r.workflowId?.includes('/') ? r.workflowId.slice(0, r.workflowId.lastIndexOf('/')) : undefined;
    if (!parentId) {
      out.push({ ...r, kind: 'run', dates: r.targetDate ? 1 : 0 });
      continue;
    }
    const p = parents.get(parentId);
    if (!p) {
      const row: WorkflowRunRow = {
        ...r,
        workflowId: parentId,
        runId: null, // the children's runs, summed
        kind: 'backfill',
        dates: 1,
        error: r.error && `${r.targetDate}: ${r.error}`,
      };
      parents.set(parentId, row);
      out.push(row);
      continue;
    }
    const [from, to] = (p.targetDate ?? '').split('..');
    const dates = [from, to ?? from, r.targetDate].filter(Boolean).sort() as string[];
    p.targetDate = dates[0] === dates.at(-1) ? dates[0]! : `${dates[0]}..${dates.at(-1)}`;
    p.dates++;
    p.jobs += r.jobs;
    p.failedJobs += r.failedJobs;
    p.rows += r.rows;
    p.rejected += r.rejected;
    const end = Math.max(Date.parse(p.startedAt) + (p.durationMs ?? 0), Date.parse(r.startedAt) + (r.durationMs ?? 0));
    if (r.startedAt < p.startedAt) p.startedAt = r.startedAt;
    p.durationMs = end - Date.parse(p.startedAt);
    p.error ??= r.error && `${r.targetDate}: ${r.error}`;
    p.state = rank(r.state) > rank(p.state) ? r.state : p.state;
  }
  return out;
}

/** Which state a group shows: any failure, else anything running, else success if any, else skipped. */
const rank = (s: WorkflowRunRow['state']) => ({ SKIPPED: 0, SUCCESS: 1, RUNNING: 2, FAILED: 3 })[s];

async function runningWorkflows(client: Client) {
  const top: RunningWorkflow[] = [];
  let children = 0;
  const childrenOf = new Map<string, string[]>();
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    if (wf.parentExecution) {
      children++;
      const parent = wf.parentExecution.workflowId ?? '';
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), wf.workflowId]);
      continue;
    }
    if (top.length < 50) {
      top.push({
        workflowId: wf.workflowId,
        type: wf.type,
        pipeline: wf.typedSearchAttributes.get(PIPELINE_KEY) ?? null,
        targetDate: wf.typedSearchAttributes.get(TARGET_DATE_KEY) ?? null,
        startedAt: wf.startTime.toISOString(),
        workerBuildId: null,
        retrying: [],
      });
    }
  }
  // What each run is retrying: its own pending activities, or those of its running children.
  await Promise.all(
    top.map(async (w) => {
      const ids = [w.workflowId, ...(childrenOf.get(w.workflowId) ?? []).slice(0, 20)];
      const lists = await Promise.all(
        ids.map(async (id) => retryingNodes(client, id, await quickProgress(client, id, 2000)).catch(() => [])),
      );
      w.retrying = lists.flat();
    }),
  );
  // The list carries no worker version; describe does (at most 50 calls, side by side).
  const deployments = await Promise.all(top.map((w) => workerVersionOf(client, w)));
  const uses = new Map<string, WorkerVersionUse>();
  for (const d of deployments) {
    if (!d) continue;
    const key = `${d.deploymentName ?? ''}:${d.buildId}`;
    const use = uses.get(key) ?? { ...d, workflows: 0 };
    use.workflows++;
    uses.set(key, use);
  }
  return { top, children, versions: [...uses.values()].sort((a, b) => b.workflows - a.workflows) };
}

async function workerVersionOf(
  client: Client,
  w: RunningWorkflow,
): Promise<{ deploymentName: string | null; buildId: string } | undefined> {
  try {
    const info = (await client.workflow.getHandle(w.workflowId).describe()).raw.workflowExecutionInfo;
    const versioned = info?.versioningInfo?.deploymentVersion;
    const buildId = versioned?.buildId || info?.mostRecentWorkerVersionStamp?.buildId || null;
    w.workerBuildId = buildId;
    if (!buildId) return undefined;
    return { deploymentName: versioned?.deploymentName || info?.workerDeploymentName || null, buildId };
  } catch {
    return undefined; // finished between list and describe
  }
}

/** snake_case keys → camelCase, deeply; dates as ISO strings. Family sections keep their content,
 * not their spelling. */
export function camelKeys(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
        camelKeys(v),
      ]),
    );
  }
  return value;
}

const reason = (err: unknown) => (err as Error).message.split('\n')[0]!;

export async function buildStatusReport(
  ctx: { warehouse(): Promise<Pool>; temporal(): Promise<Client> },
  opts: { limit: number },
): Promise<StatusReport> {
  const report: StatusReport = {
    recentRuns: null,
    skippedRuns: null,
    dailySuccessRate: null,
    runningWorkflows: null,
    runningBackfillChildren: null,
    workerVersions: null,
    alerts: null,
    sections: {},
    unreachable: {},
  };
  const [warehouse, temporal] = await Promise.allSettled([ctx.warehouse(), ctx.temporal()]);
  if (temporal.status === 'fulfilled') {
    try {
      const { top, children, versions } = await runningWorkflows(temporal.value);
      report.runningWorkflows = top;
      report.runningBackfillChildren = children;
      report.workerVersions = versions;
    } catch (err) {
      report.unreachable.temporal = reason(err);
    }
  } else report.unreachable.temporal = reason(temporal.reason);
  if (warehouse.status === 'rejected') {
    report.unreachable.warehouse = reason(warehouse.reason);
    return report;
  }
  const pool = warehouse.value;
  const [{ runs, skipped }, daily, alerts] = await Promise.all([
    workflowRuns(pool, opts.limit),
    dailySuccessRate(pool),
    alertList(pool, { openOnly: true, limit: 100 }),
  ]);
  report.recentRuns = runs;
  report.skippedRuns = skipped;
  report.dailySuccessRate = daily;
  report.alerts = alerts;
  const readable = { warehouse: async () => pool };
  for (const s of STATUS_SECTIONS) {
    if (statusSectionKey(s) === 'rowDropAlerts') continue; // a rule of the alerts table: in `alerts`
    report.sections[statusSectionKey(s)] = camelKeys(await s.json(readable));
  }
  return report;
}
