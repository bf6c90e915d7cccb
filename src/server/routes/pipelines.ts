// GET /api/pipelines (every pipeline with its DAG, schedules and last run) and the two triggers:
// POST /api/pipelines/:name/runs and /backfills, started exactly as `learnsync run` / `backfill`.
import type { FastifyInstance } from 'fastify';
import { SCHEDULES } from '../../pipelines/schedules.js';
import { listPipelines } from '../../pipelines/registry.js';
import { checkBackfillRequest, checkRunRequest, startBackfill, startPipelineRun } from '../../schedules/start-runs.js';
import { workflowUrl } from '../../runtime/links.js';
import type { ServerDeps } from '../deps.js';
import { pipelineSummaries } from '../queries.js';
import { pipelineSuccessRates } from '../../runtime/ledger/success-rate.js';
import { retryingByPipeline, type RetryingNode } from '../../runtime/retrying.js';

export const PIPELINE_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$' } as const;
const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

export function registerPipelineRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const link = (id: string) => workflowUrl(deps.uiUrl, deps.config.temporal.namespace, id);

  app.get(
    '/api/pipelines',
    {
      config: { access: 'read' },
      schema: { summary: 'pipelines, their DAGs, schedules and last runs', tags: ['pipelines'] },
    },
    async () => {
      const [summaries, rates] = await Promise.all([
        pipelineSummaries(deps.warehouse),
        pipelineSuccessRates(deps.warehouse),
      ]);
      // Temporal down: the ledger's view is still served; `retrying` is then null (unknown), not [].
      const retrying = await deps
        .temporal()
        .then(retryingByPipeline)
        .catch(() => undefined);
      return {
        pipelines: listPipelines().map((p) => {
          const s = summaries.get(p.name);
          const rate = rates.get(p.name);
          return {
            name: p.name,
            kind: p.kind,
            description: p.description,
            nodes: p.nodes.map((n) => ({ id: n.id, activity: n.activity, dependsOn: n.dependsOn ?? [] })),
            schedules: SCHEDULES.filter((x) => x.pipeline === p.name).map((x) => ({
              id: x.id,
              cron: x.cron,
              every: x.every,
              description: x.description,
            })),
            lastRun: s?.last_started_at
              ? {
                  startedAt: s.last_started_at.toISOString(),
                  status: s.last_status,
                  targetDate: s.last_target_date,
                  workflowId: s.last_workflow_id,
                  webUrl: s.last_workflow_id ? link(s.last_workflow_id) : undefined,
                }
              : null,
            // Final attempts (runtime/ledger/success-rate.ts, as `status`): a fraction here, a percentage beside it.
            successRate7d: rate?.successRatePercent == null ? null : rate.successRatePercent / 100,
            successRatePercent7d: rate?.successRatePercent ?? null,
            jobRuns7d: {
              succeeded: rate?.succeeded ?? 0,
              failed: rate?.failed ?? 0,
              skipped: rate?.skipped ?? 0,
              failedAttempts: rate?.failedAttempts ?? 0,
            },
            retrying: retrying ? (retrying.get(p.name) ?? ([] as RetryingNode[])) : null,
          };
        }),
      };
    },
  );

  app.post<{ Params: { name: string }; Body: { date?: string; force?: boolean } }>(
    '/api/pipelines/:name/runs',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          'start a run (nightly: date defaults to yesterday, UTC); 409 with the running id when it is already running',
        tags: ['pipelines'],
        params: { type: 'object', properties: { name: PIPELINE_NAME }, required: ['name'] },
        body: { type: 'object', additionalProperties: false, properties: { date: DATE, force: { type: 'boolean' } } },
      },
    },
    async (req, reply) => {
      const { def, targetDate, force } = checkRunRequest(
        req.params.name,
        req.body?.date,
        req.body?.force === true,
        'date',
      );
      const { workflowId, targetDate: date } = await startPipelineRun(
        await deps.temporal(),
        deps.config.temporal.taskQueue,
        def,
        { targetDate, force, outageWindowMinutes: deps.config.retry.outageWindowMinutes },
      );
      req.log.info({ workflowId, token: req.token?.name }, 'run started through the API');
      return reply
        .code(202)
        .send({ workflowId, pipeline: def.name, targetDate: date ?? null, force, webUrl: link(workflowId) ?? null });
    },
  );

  app.post<{
    Params: { name: string };
    Body: { from: string; to: string; concurrency?: number; force?: boolean; maxDates?: number; yes?: boolean };
  }>(
    '/api/pipelines/:name/backfills',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'backfill a nightly pipeline over a date range; 409 with the running id when the same backfill runs',
        tags: ['pipelines'],
        params: { type: 'object', properties: { name: PIPELINE_NAME }, required: ['name'] },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: DATE,
            to: DATE,
            concurrency: { type: 'integer', minimum: 1, maximum: 1000 },
            force: { type: 'boolean' },
            maxDates: { type: 'integer', minimum: 1 },
            yes: { type: 'boolean' },
          },
        },
      },
    },
    async (req, reply) => {
      const r = checkBackfillRequest(req.params.name, req.body, deps.config.backfill.maxDates, {
        from: 'from',
        to: 'to',
        concurrency: 'concurrency',
        maxDates: 'maxDates',
        yes: 'yes',
      });
      const { workflowId } = await startBackfill(
        await deps.temporal(),
        deps.config.temporal.taskQueue,
        r,
        deps.config.retry.outageWindowMinutes,
      );
      req.log.info({ workflowId, token: req.token?.name }, 'backfill started through the API');
      return reply.code(202).send({
        workflowId,
        pipeline: r.def.name,
        from: r.from,
        to: r.to,
        dates: r.total,
        concurrency: r.concurrency,
        force: r.force,
        webUrl: link(workflowId) ?? null,
      });
    },
  );
}
