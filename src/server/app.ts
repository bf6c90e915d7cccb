// The `learnsync serve` HTTP application (Fastify): request ids, the Host allow-list, bearer-token
// auth with per-token rate limits, JSON-schema-validated routes, 404/405 with Allow, error bodies
// without stacks or internal URLs, and the OpenAPI document built from the routes' own schemas.
// Routes live in routes/*.ts; other families mount admin routes through `plugins`.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { httpRequests } from '../runtime/metrics.js';
import { RateLimiter, requireRole, tokenKey } from './auth.js';
import { errorBody, sendError } from './http-errors.js';
import { buildOpenApi, type RouteRecord } from './openapi.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerDashboardOpsRoutes } from './routes/dashboard-ops.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLearnerRoutes } from './routes/learners.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerPipelineRoutes } from './routes/pipelines.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerRejectRoutes } from './routes/rejects.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerStatusRoutes } from './routes/status.js';
import type { ServerDeps } from './deps.js';

export type { MountedPlugin, ServerDeps } from './deps.js';

const REQUEST_ID = /^[\w.-]{1,64}$/;
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function hostAllowed(host: string | undefined, allowed: string[]): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  const bare = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]!;
  return allowed.includes(h) || allowed.includes(bare);
}

function hostHeaderCount(rawHeaders: string[]): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'host') n++;
  return n;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'serve' }) as unknown as FastifyBaseLogger,
    bodyLimit: 16 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: true },
    return503OnClosing: true,
    // Unknown properties are refused (400), not silently dropped: a typo in a trigger must not pass unnoticed.
    ajv: { customOptions: { removeAdditional: false } },
    // A URL that cannot even be decoded (bad percent-encoding) gets the same JSON 400 as any bad input.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-request-id', req.id);
      void (reply as FastifyReply)
        .code(400)
        .send(
          errorBody(
            req as FastifyRequest,
            'bad_request',
            'the request URL cannot be read: ' +
              (err.code === 'FST_ERR_BAD_URL' ? 'malformed percent-encoding' : err.message),
          ),
        );
    },
  });
  const limiter = new RateLimiter(config.serve.rateLimitPerMinute);
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (r) => {
    routes.push({ method: r.method, url: r.url, schema: r.schema, access: r.config?.access });
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    // DNS rebinding: a page on another name must not reach this server through the browser.
    // Probes and the scrape carry no data and come with a pod address as Host.
    // Node keeps the first of two Host headers; a proxy in front may route by the second. A request
    // that names two hosts is ambiguous by definition (RFC 9112 §3.2): refused, whatever the path.
    if (hostHeaderCount(req.raw.rawHeaders) > 1) {
      return reply
        .code(400)
        .send(errorBody(req, 'bad_request', 'the request has more than one Host header: send exactly one'));
    }
    const path = req.url.split('?')[0]!;
    if (!OPEN_PATHS.has(path) && !hostAllowed(req.headers.host, config.serve.allowedHosts)) {
      return reply
        .code(421)
        .send(
          errorBody(
            req,
            'misdirected_request',
            `Host "${String(req.headers.host).slice(0, 100)}" is not served here: add it to SERVE_ALLOWED_HOSTS`,
          ),
        );
    }
  });
  app.addHook('onRequest', requireRole(deps.warehouse, limiter));
  app.addHook('onResponse', async (req, reply) => {
    // "Busy" (503) did no work for the caller: it must not spend the token's rate budget, or a
    // client retrying as told by Retry-After would end up rate limited for the server's load.
    if (reply.statusCode === 503 && req.token) limiter.refund(tokenKey(req.token.id));
    const route = req.routeOptions.url ?? 'unmatched';
    httpRequests.inc({
      route: routes.some((r) => r.url === route) ? route : 'unmatched',
      method: req.method.slice(0, 10),
      status: `${Math.floor(reply.statusCode / 100)}xx`,
    });
  });

  app.setErrorHandler((err, req, reply) =>
    sendError(err as Error, req, reply, (e, r) =>
      deps.reportError?.(e, { route: r.routeOptions.url, method: r.method, requestId: r.id }),
    ),
  );
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allow = [
      ...new Set(
        routes
          .filter((r) => r.pattern?.test(path) ?? (r.pattern = compile(r.url)).test(path))
          .flatMap((r) => [r.method].flat()),
      ),
    ];
    if (allow.length) {
      return reply
        .code(405)
        .header('allow', allow.sort().join(', '))
        .send(errorBody(req, 'method_not_allowed', `${req.method} is not allowed here: use ${allow.join(' or ')}`));
    }
    return reply
      .code(404)
      .send(errorBody(req, 'not_found', `no route ${req.method} ${path.slice(0, 200)}: GET /openapi.json lists them`));
  });

  registerHealthRoutes(app, deps);
  registerPipelineRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRejectRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  registerStatusRoutes(app, deps);
  registerLearnerRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerDashboardRoutes(app, deps);
  registerDashboardOpsRoutes(app, deps);
  registerMetricsRoutes(app, deps);
  for (const m of deps.plugins ?? []) {
    await app.register(m.plugin, { prefix: m.prefix, preHandler: requireRole(deps.warehouse, limiter, m.role) });
  }
  app.get('/openapi.json', { config: { access: 'open' }, schema: { hide: true } }, async () => buildOpenApi(routes));
  return app;
}

/** '/api/runs/:workflowId' → a RegExp matching a concrete path of that route. */
function compile(url: string): RegExp {
  const parts = url
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}/?$`);
}
