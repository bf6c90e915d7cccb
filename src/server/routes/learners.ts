// GET /api/learners/:email/exams — one learner's exam history (personal data: admin tokens only),
// live from Kusto through the 5-minute cache, else from the last sync. Live reads are capped in
// number at once (SERVE_MAX_LIVE_QUERIES) and `refresh=1` per token (SERVE_REFRESH_PER_MINUTE),
// so no caller can turn this endpoint into a stream of cluster queries.
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import { liveReads } from '../../runtime/metrics.js';
import type { ServerDeps } from '../deps.js';
import { RateLimiter } from '../auth.js';
import { HttpError, publicMessage } from '../http-errors.js';

/** RFC 5321: 254 characters at most; printable, no spaces or control characters. */
export const EMAIL_PARAM = {
  type: 'string',
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s\\x00-\\x1f\\x7f/]+@[^\\s\\x00-\\x1f\\x7f/@]+$',
} as const;

export function registerLearnerRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const refreshes = new RateLimiter(deps.config.serve.refreshPerMinute);
  let inFlight = 0;

  app.get<{ Params: { email: string }; Querystring: { refresh?: '0' | '1' } }>(
    '/api/learners/:email/exams',
    {
      config: { access: 'admin' },
      schema: {
        summary: "a learner's exam history (personal data: admin only), live with fallback to the last sync",
        tags: ['learners'],
        params: { type: 'object', properties: { email: EMAIL_PARAM }, required: ['email'] },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { refresh: { type: 'string', enum: ['0', '1'] } },
        },
      },
    },
    async (req, reply) => {
      if (!deps.profiles)
        throw new HttpError(503, 'unavailable', 'live learner reads are not configured on this server');
      const refresh = req.query.refresh === '1';
      if (refresh) {
        const wait = refreshes.take(req.token?.id ?? req.ip);
        if (wait)
          throw new HttpError(
            429,
            'rate_limited',
            `refresh=1 is limited to ${deps.config.serve.refreshPerMinute} a minute: ` +
              `retry in ${wait} s or drop refresh`,
            {},
            { 'retry-after': String(wait) },
          );
      }
      if (inFlight >= deps.config.serve.maxLiveQueries) {
        throw new HttpError(
          503,
          'busy',
          `${inFlight} live reads are already running: retry in a few seconds`,
          {},
          { 'retry-after': '5' },
        );
      }
      inFlight++;
      try {
        const p = await deps.profiles.profile(req.params.email, { refresh });
        req.log.info({ token: req.token?.name, source: p.source }, 'learner profile served');
        liveReads.inc({ source: p.source });
        return reply.send({ ...p, ...(p.kustoError ? { kustoError: publicMessage(p.kustoError) } : {}) });
      } catch (err) {
        if (err instanceof ValidationError)
          throw new HttpError(400, 'bad_request', err.message.slice(0, 80).replace(/"[^"]*"/, 'the e-mail'));
        throw new HttpError(
          503,
          'unavailable',
          'the exam history cannot be read now: Kusto is unreachable and the warehouse has no fallback',
        );
      } finally {
        inFlight--;
      }
    },
  );
}
