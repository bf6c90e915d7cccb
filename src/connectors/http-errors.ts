// One classification of HTTP failures for every connector (GitHub, Kusto and its cloud-info
// lookup, the school API, report downloads): a source's answer is sorted once, here, into what a
// retry can fix and what it cannot, with a message naming what to fix. README "Error
// classification" is this table in prose; test/unit/http-errors.test.ts and each connector's tests
// drive every row.
import { AuthError, ConfigError, PermissionError, ValidationError } from '../errors.js';
import { retryAfterSeconds } from './school-api/wait.js';

export { PermissionError };

/** A failure a later attempt can fix (rate limit, 5xx, network). `retryAfterMs`: the wait the service announced. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type HeaderSource = Headers | Record<string, string | string[] | number | undefined> | undefined;

export interface HttpFailure {
  /** e.g. "GitHub", "Kusto cluster gh-analytics", "the school API". */
  service: string;
  /** The route or URL that failed (never with credentials). */
  endpoint: string;
  /** Undefined: no answer at all (DNS, refused, reset, timeout). */
  status?: number;
  headers?: HeaderSource;
  /** The service's own words (error body text), kept in the message. */
  detail?: string;
  /** What a 401 should make the user check, e.g. "GITHUB_TOKEN". */
  credentials?: string;
  /** The permission or scope a 403 means is missing, e.g. "read:org". */
  scope?: string;
  /** The setting that chose this endpoint, for a 404, e.g. "GITHUB_ORG". */
  setting?: string;
  /** Network error text when there was no answer. */
  networkError?: string;
  now?: number;
}

function header(h: HeaderSource, name: string): string | undefined {
  if (!h) return undefined;
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name] ?? h[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}

/**
 * The wait a service announced for a throttled request, in ms: Retry-After (seconds or a date), or
 * the reset time of an exhausted rate-limit budget (x-ratelimit-reset, epoch seconds). Undefined
 * when the answer carries no rate-limit sign at all.
 */
export function announcedWaitMs(h: HeaderSource, now = Date.now()): number | undefined {
  const after = retryAfterSeconds(header(h, 'retry-after'), now);
  if (after !== undefined) return after * 1000;
  const remaining = header(h, 'x-ratelimit-remaining');
  const reset = header(h, 'x-ratelimit-reset');
  if (remaining === '0' && reset !== undefined && Number.isFinite(Number(reset)))
    return Math.max(0, Number(reset) * 1000 - now);
  if (remaining === '0') return 60_000;
  return undefined;
}

const RATE_LIMIT_TEXT = /rate limit|too many requests|throttl/i;

/** The error for a failed HTTP exchange, by the shared table. */
export function classifyHttpFailure(f: HttpFailure): Error {
  const where = `${f.service} ${f.endpoint}`;
  const said = f.detail ? `: ${f.detail.slice(0, 300)}` : '';
  const s = f.status;
  if (s === undefined) return new RetryableError(`${where}: no answer (${f.networkError ?? 'network error'})`);
  if (s === 401)
    return new AuthError(
      `${where} refused the credentials (401)${said}${f.credentials ? ` — check ${f.credentials}` : ''}`,
    );
  const wait = announcedWaitMs(f.headers, f.now);
  if (s === 429 || (s === 403 && (wait !== undefined || RATE_LIMIT_TEXT.test(f.detail ?? ''))))
    return new RetryableError(
      `${where} is rate limited (${s})${wait !== undefined ? `, retry in ${Math.ceil(wait / 1000)} s` : ''}${said}`,
      wait,
      s,
    );
  if (s === 403)
    return new PermissionError(
      `${where} denied access (403)${f.scope ? `: the credentials need ${f.scope}` : ''}${said}`,
    );
  if (s === 404)
    return new ConfigError(`${where} does not exist (404)${f.setting ? ` — check ${f.setting}` : ''}${said}`);
  if (s === 408 || s >= 500) return new RetryableError(`${where} failed (${s})${said}`, wait, s);
  return new ValidationError(`${where} refused the request (${s})${said}`);
}

/** True for the classes the retry policies never retry. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof AuthError ||
    err instanceof PermissionError ||
    err instanceof ConfigError ||
    err instanceof ValidationError
  );
}
