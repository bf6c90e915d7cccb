// Who may call what. Every route declares its access in its config: 'open' (probes, the page
// shell, metrics), 'read' (everything but personal data) or 'admin' (triggers and personal
// data); a route that declares nothing is admin-only. The bearer token is checked before the
// body is read, and every caller is rate limited per token (per address before it has one).
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Pool } from '../connectors/postgres.js';
import { HttpError } from './http-errors.js';
import { verifyToken, type TokenRole } from './tokens.js';

export type Access = 'open' | TokenRole;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    token?: { id: string; name: string; role: TokenRole };
  }
}

/** A fixed one-minute window per key, with a bounded number of keys. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Seconds to wait when over the limit, else 0. */
  take(key: string): number {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (!w && this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.perMinute ? Math.ceil((w.start + 60_000 - t) / 1000) : 0;
  }

  /** Gives back one request taken from the current window (an answer that did no work for the caller). */
  refund(key: string): void {
    const w = this.windows.get(key);
    if (w && w.count > 0 && this.now() - w.start < 60_000) w.count--;
  }
}

/** The limiter key a token's requests are counted under. */
export const tokenKey = (id: string) => `token:${id}`;

const rateLimited = (retryAfter: number) =>
  new HttpError(
    429,
    'rate_limited',
    `too many requests: retry in ${retryAfter} s`,
    {},
    { 'retry-after': String(retryAfter) },
  );

export function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** The hook every route runs (and that mounted plugins can add again with a stricter role). */
export function requireRole(warehouse: Pool, limiter: RateLimiter, role?: TokenRole): onRequestAsyncHookHandler {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const access: Access = role ?? req.routeOptions.config?.access ?? 'admin';
    if (access === 'open') return;
    if (!req.token) {
      const bearer = bearerOf(req);
      if (!bearer) {
        const wait = limiter.take(`ip:${req.ip}`);
        if (wait) throw rateLimited(wait);
        throw new HttpError(
          401,
          'unauthorized',
          'this endpoint needs a bearer token: create one with `learnsync tokens create <name>` ' +
            'and send "Authorization: Bearer <token>"',
          {},
          { 'www-authenticate': 'Bearer realm="learnsync"' },
        );
      }
      const token = await verifyToken(warehouse, bearer);
      if (!token) {
        // Guessing tokens costs the guesser's address its budget.
        const wait = limiter.take(`ip:${req.ip}`);
        if (wait) throw rateLimited(wait);
        throw new HttpError(
          401,
          'unauthorized',
          'the bearer token is unknown or revoked: `learnsync tokens list` shows the live ones',
          {},
          { 'www-authenticate': 'Bearer realm="learnsync", error="invalid_token"' },
        );
      }
      req.token = token;
      const wait = limiter.take(tokenKey(token.id));
      if (wait) throw rateLimited(wait);
    }
    if (access === 'admin' && req.token.role !== 'admin') {
      throw new HttpError(
        403,
        'forbidden',
        `token "${req.token.name}" has role read; ` +
          'this endpoint needs an admin token (it starts work or returns personal data)',
      );
    }
  };
}
