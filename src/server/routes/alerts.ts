// GET /api/alerts: open incidents first, then recently resolved ones (what the alerts pipeline found).
import type { FastifyInstance } from 'fastify';
import { alertList } from '../../pipelines/alerts/view.js';
import type { ServerDeps } from '../deps.js';

export function registerAlertRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get<{ Querystring: { open?: boolean; limit?: number } }>(
    '/api/alerts',
    {
      config: { access: 'read' },
      schema: {
        summary: 'alerts: open incidents first, then resolved ones',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { open: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
        },
      },
    },
    async (req) => {
      return { alerts: await alertList(deps.warehouse, { openOnly: req.query.open, limit: req.query.limit }) };
    },
  );
}
