// GET /api/sync-status: seed 001's sync status — the learning-ROI datasets, Kusto sources and
// gates (sync_status.json as the warehouse has it now) — plus every job's freshness, for every family.
import type { FastifyInstance } from 'fastify';
import { buildSyncStatus } from '../../pipelines/learning-roi/status.js';
import type { ServerDeps } from '../deps.js';
import { lastSuccessPerJob } from '../queries.js';

export function registerStatusRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get(
    '/api/sync-status',
    {
      config: { access: 'read' },
      schema: { summary: 'datasets, sources, quality gates and the freshness of every job', tags: ['status'] },
    },
    async () => {
      const [learningRoi, jobs] = await Promise.all([
        buildSyncStatus(deps.warehouse),
        lastSuccessPerJob(deps.warehouse),
      ]);
      return {
        generatedAt: new Date().toISOString(),
        learningRoi,
        jobs: jobs.map((j) => ({
          job: j.job,
          pipeline: j.pipeline,
          lastSuccess: j.last_success.toISOString(),
          lastTargetDate: j.last_target_date,
        })),
      };
    },
  );
}
