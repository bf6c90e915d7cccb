// What the dashboard's operator pages need beyond the general API: who the token is (to offer
// actions only to admin tokens), a node's rejects for one target date (reason counts and sample rows;
// admin only, as rejected rows can hold personal data) and the dataset lineage graph with freshness
// per dataset (the last success of the node that produces it).
import type { FastifyInstance } from 'fastify';
import { datasetGraph } from '../../stack/lineage.js';
import type { ServerDeps } from '../deps.js';
import { lastSuccessPerJob } from '../queries.js';
import { expectedIntervalSeconds } from './dashboard.js';

const JOB = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,99}$' } as const;
const DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
const SAMPLES = 20;

export function registerDashboardOpsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get(
    '/api/dashboard/me',
    { config: { access: 'read' }, schema: { summary: "the calling token's name and role", tags: ['dashboard'] } },
    async (req) => ({ name: req.token?.name ?? null, role: req.token?.role ?? null }),
  );

  app.get<{ Querystring: { job: string; date?: string } }>(
    '/api/dashboard/rejects',
    {
      config: { access: 'admin' },
      schema: {
        summary: "a node's rejected rows for one target date: counts per reason and the first rows",
        tags: ['dashboard'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['job'],
          properties: { job: JOB, date: DATE },
        },
      },
    },
    async (req) => {
      const { job, date } = req.query;
      const where = `job_name = $1 AND target_date IS NOT DISTINCT FROM $2::date`;
      const [reasons, samples] = await Promise.all([
        deps.warehouse.query<{ reason: string; rows: number }>(
          `SELECT reason, count(*)::int AS rows FROM etl_rejects WHERE ${where} GROUP BY reason ORDER BY 2 DESC, 1`,
          [job, date ?? null],
        ),
        deps.warehouse.query<{ reason: string; raw: unknown; rejectedAt: Date }>(
          `SELECT reason, raw, rejected_at AS "rejectedAt" FROM etl_rejects WHERE ${where} ORDER BY id LIMIT $3`,
          [job, date ?? null, SAMPLES],
        ),
      ]);
      return { job, date: date ?? null, reasons: reasons.rows, samples: samples.rows };
    },
  );

  app.get(
    '/api/dashboard/lineage',
    {
      config: { access: 'read' },
      schema: {
        summary: 'datasets each node reads and writes, with freshness per dataset from its producers',
        tags: ['dashboard'],
      },
    },
    async () => {
      const graph = datasetGraph();
      const last = new Map((await lastSuccessPerJob(deps.warehouse)).map((r) => [r.job, r]));
      const now = Date.now();
      return {
        nodes: graph.nodes,
        datasets: graph.datasets.map((d) => {
          const runs = d.producers.map((p) => last.get(p)).filter((r) => r !== undefined);
          const latest = runs.sort((a, b) => b.last_success.getTime() - a.last_success.getTime())[0];
          const age = latest ? Math.round((now - latest.last_success.getTime()) / 1000) : null;
          const expected = expectedIntervalSeconds(latest?.pipeline ?? null);
          return {
            ...d,
            lastWritten: latest?.last_success.toISOString() ?? null,
            ageSeconds: age,
            fresh: d.producers.length === 0 ? null : age !== null && age <= expected * 1.5,
          };
        }),
      };
    },
  );
}
