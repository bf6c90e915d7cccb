// Probes, open to all: /healthz says the process answers; /readyz that the warehouse and Temporal
// are reachable now (503 naming which is not, never how it is addressed).
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../deps.js';

const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);

export function registerHealthRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get(
    '/healthz',
    { config: { access: 'open' }, schema: { summary: 'the process answers', tags: ['health'] } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    { config: { access: 'open' }, schema: { summary: 'warehouse and Temporal reachable', tags: ['health'] } },
    async (_req, reply) => {
      const [warehouse, temporal] = await Promise.all([
        within(3000, deps.warehouse.query('SELECT 1')).then(
          () => 'ok',
          () => 'unreachable',
        ),
        within(
          3000,
          deps.temporal().then((c) => c.connection.workflowService.getSystemInfo({})),
        ).then(
          () => 'ok',
          () => 'unreachable',
        ),
      ]);
      const ok = warehouse === 'ok' && temporal === 'ok';
      return reply.code(ok ? 200 : 503).send({ ok, warehouse, temporal });
    },
  );
}
