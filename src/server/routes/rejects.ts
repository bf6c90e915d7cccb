// GET /api/runs/:workflowId/rejects — the rows a run rejected, whichever family wrote them: counts
// per job and reason, and sample rows with their raw values. Raw values are personal data (e-mails,
// chat text), so admin tokens only. A run's rejects are the etl_rejects rows its job transactions
// wrote (tagged with the workflow id, migration 065) and, for rows written outside those
// transactions or before the tag existed, the current rejects of the jobs and dates it ran.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';

const WORKFLOW_ID = { type: 'string', pattern: '^[A-Za-z0-9][\\w.:+-]{0,199}$' } as const;
const JOB = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' } as const;

/** The run's rejects as a CTE: $1 the workflow id, $2 an optional job name. */
const RUN_REJECTS = `
  WITH jobs AS (SELECT DISTINCT job_name, target_date FROM etl_job_runs WHERE workflow_id = $1),
  run_rejects AS (
    SELECT e.* FROM etl_rejects e WHERE e.workflow_id = $1 AND ($2::text IS NULL OR e.job_name = $2)
    UNION ALL
    SELECT e.* FROM etl_rejects e
      JOIN jobs j ON e.job_name = j.job_name AND e.target_date IS NOT DISTINCT FROM j.target_date
     WHERE e.workflow_id IS NULL AND ($2::text IS NULL OR e.job_name = $2))`;

export function registerRejectRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get<{ Params: { workflowId: string }; Querystring: { job?: string; limit?: number } }>(
    '/api/runs/:workflowId/rejects',
    {
      config: { access: 'admin' },
      schema: {
        summary: "a run's rejected rows (personal data: admin only): counts per job and reason, and sample rows",
        tags: ['runs'],
        params: { type: 'object', properties: { workflowId: WORKFLOW_ID }, required: ['workflowId'] },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { job: JOB, limit: { type: 'integer', minimum: 0, maximum: 200, default: 20 } },
        },
      },
    },
    async (req) => {
      const { workflowId } = req.params;
      const job = req.query.job ?? null;
      const limit = req.query.limit ?? 20;
      const ran = await deps.warehouse.query('SELECT 1 FROM etl_job_runs WHERE workflow_id = $1 LIMIT 1', [workflowId]);
      const tagged = await deps.warehouse.query('SELECT 1 FROM etl_rejects WHERE workflow_id = $1 LIMIT 1', [
        workflowId,
      ]);
      if (!ran.rowCount && !tagged.rowCount)
        throw new HttpError(404, 'not_found', `no job of run ${workflowId} is in the ledger`);
      // Reasons grouped by their shape: quoted values (which differ row by row) folded into "…".
      const { rows: reasons } = await deps.warehouse.query<{ job: string; reason: string; count: string }>(
        `${RUN_REJECTS}
         SELECT job_name AS job, regexp_replace(reason, '"[^"]*"', '"…"', 'g') AS reason, count(*) AS count
           FROM run_rejects GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 100`,
        [workflowId, job],
      );
      const { rows: samples } = await deps.warehouse.query(
        `${RUN_REJECTS}
         SELECT id::text AS id, job_name AS job, to_char(target_date, 'YYYY-MM-DD') AS "targetDate", reason, raw,
                rejected_at AS "rejectedAt"
           FROM run_rejects ORDER BY id LIMIT $3`,
        [workflowId, job, limit],
      );
      const [{ total }] = (
        await deps.warehouse.query<{ total: string }>(`${RUN_REJECTS} SELECT count(*) AS total FROM run_rejects`, [
          workflowId,
          job,
        ])
      ).rows as [{ total: string }];
      return {
        workflowId,
        job,
        total: Number(total),
        reasons: reasons.map((r) => ({ job: r.job, reason: r.reason, count: Number(r.count) })),
        samples,
      };
    },
  );
}
