// GitHub REST through @octokit/rest with the throttling and retry plugins. On top of them:
// conditional requests (ETag / Last-Modified in, 304 out as a cache hit), a wait for the primary
// rate-limit reset before a request that would surely be refused, and one report per HTTP request
// (retries included) so a run can account for every call it spent and the budget it left.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { classifyHttpFailure } from '../http-errors.js';
import { stallGuardedFetch } from '../stall-fetch.js';
import type { ApiCallEvent } from '../school-api/client.js';
import { sleep } from '../school-api/wait.js';

export type { ApiCallEvent };

/** Every GitHub request is abandoned after REQUEST_STALL_MS of silence (see stall-fetch.ts). */
const stallFetch = stallGuardedFetch();

const ThrottledOctokit = Octokit.plugin(throttling, retry);
export type GithubOctokit = InstanceType<typeof ThrottledOctokit>;

export interface GithubClientOptions {
  /** Absent → unauthenticated (60 requests an hour on github.com). */
  token?: string;
  baseUrl: string;
  maxRetries: number;
  /** Multiplies Retry-After, rate-limit and backoff waits (tests: near 0). */
  backoffScale?: number;
  onCall?: (e: ApiCallEvent) => void;
  /** Rate-limit waits and unexpected answers, for the activity's log. */
  onNotice?: (msg: string, fields: Record<string, unknown>) => void;
  signal?: AbortSignal;
  requestTimeoutMs?: number;
}

export interface Validators {
  etag?: string | null;
  lastModified?: string | null;
}

export type ConditionalResult<T> =
  { status: 200; data: T; etag?: string; lastModified?: string; link?: string } | { status: 304 };

export interface RateLimitState {
  remaining: number;
  limit?: number;
  resetAt?: Date;
}

export class GithubClient {
  readonly octokit: GithubOctokit;
  rateLimit?: RateLimitState;

  constructor(private readonly opts: GithubClientOptions) {
    const scale = opts.backoffScale ?? 1;
    const notice = opts.onNotice ?? (() => {});
    const quiet = () => {};
    this.octokit = new ThrottledOctokit({
      auth: opts.token,
      baseUrl: opts.baseUrl,
      userAgent: 'learnsync',
      // A 304 surfaces as a request "error" in Octokit's request log; it is a cache hit, not news.
      log: {
        debug: quiet,
        info: quiet,
        warn: (m: string) => notice(m, {}),
        error: (m: string) => (/ - 304 /.test(m) ? undefined : notice(m, {})),
      },
      throttle: {
        retryAfterBaseValue: 1000 * scale,
        onRateLimit: (
          retryAfter: number,
          options: { method: string; url: string },
          _o: unknown,
          retryCount: number,
        ) => {
          notice('primary rate limit reached', { url: options.url, retryAfterSeconds: retryAfter, retryCount });
          return retryCount < opts.maxRetries;
        },
        onSecondaryRateLimit: (
          retryAfter: number,
          options: { method: string; url: string },
          _o: unknown,
          retryCount: number,
        ) => {
          notice('secondary rate limit reached', { url: options.url, retryAfterSeconds: retryAfter, retryCount });
          return retryCount < opts.maxRetries;
        },
      },
      retry: { retries: opts.maxRetries, retryAfterBaseValue: 1000 * scale },
    });
  }

  /**
   * GET a route ('/users/{username}/events'), sending the stored validators. A 304 is returned as
   * such (the caller reuses what it stored); other errors are thrown after the plugins' retries.
   */
  async get<T>(
    route: string,
    params: Record<string, string | number>,
    validators: Validators = {},
  ): Promise<ConditionalResult<T>> {
    const headers: Record<string, string> = {};
    if (validators.etag) headers['if-none-match'] = validators.etag;
    if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
    try {
      const res = await this.octokit.request(`GET ${route}`, {
        ...params,
        headers,
        request: { fetch: this.countingFetch(route), signal: this.opts.signal },
      });
      return {
        status: 200,
        data: res.data as T,
        etag: res.headers.etag,
        lastModified: res.headers['last-modified'],
        link: res.headers.link,
      };
    } catch (err) {
      if ((err as { status?: number }).status === 304) return { status: 304 };
      throw classifyGithubError(route, err);
    }
  }

  /**
   * GET of an endpoint answering JSON or 204 No Content (a report not generated yet): no
   * validators, no cache. Errors classified as in get().
   */
  async getOrNoContent<T>(route: string, params: Record<string, string | number>): Promise<T | undefined> {
    try {
      const res = await this.octokit.request(`GET ${route}`, {
        ...params,
        request: { fetch: this.countingFetch(route), signal: this.opts.signal },
      });
      return (res.status as number) === 204 ? undefined : (res.data as T);
    } catch (err) {
      throw classifyGithubError(route, err);
    }
  }

  /** Accounts for a request made outside Octokit (a report file from its signed link). */
  reportCall(e: { endpoint: string; status: number; error: boolean }): void {
    this.opts.onCall?.({ ...e, retry: false, throttled: false, notModified: false, at: new Date() });
  }

  /** A fetch that knows its route template, waits out an exhausted primary budget and reports each request. */
  private countingFetch(endpoint: string): typeof fetch {
    let sent = 0;
    return async (input, init) => {
      await this.waitForReset();
      const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const retry = sent++ > 0;
      let res: Response;
      try {
        res = await stallFetch(input, { ...init, signal });
      } catch (err) {
        this.opts.onCall?.({
          endpoint,
          status: 0,
          retry,
          throttled: false,
          error: true,
          notModified: false,
          at: new Date(),
        });
        throw err;
      }
      const rl = readRateLimit(res.headers);
      if (rl) this.rateLimit = rl;
      let throttled = res.status === 429;
      if (res.status === 403) {
        const text = await res
          .clone()
          .text()
          .catch(() => '');
        throttled = rl?.remaining === 0 || /rate limit/i.test(text);
      }
      this.opts.onCall?.({
        endpoint,
        status: res.status,
        retry,
        throttled,
        error: res.status >= 500,
        notModified: res.status === 304,
        rateLimit: rl,
        at: new Date(),
      });
      return res;
    };
  }

  /** Spending a request we know will be refused only burns time: wait for the window to reset. */
  private async waitForReset(): Promise<void> {
    const rl = this.rateLimit;
    if (!rl || rl.remaining > 0 || !rl.resetAt) return;
    const waitMs = rl.resetAt.getTime() - Date.now() + 1000;
    if (waitMs <= 0) return;
    this.opts.onNotice?.('rate-limit budget exhausted: waiting for the reset', {
      resetAt: rl.resetAt.toISOString(),
      waitSeconds: Math.ceil(waitMs / 1000),
    });
    await sleep(waitMs * (this.opts.backoffScale ?? 1), this.opts.signal);
    this.rateLimit = undefined;
  }
}

/** What each route needs, for the messages of a 403 (scope) and a 404 (the setting that chose it). */
function routeHints(route: string): { scope?: string; setting?: string } {
  if (route.startsWith('/orgs/{org}/copilot/metrics/reports'))
    return {
      scope:
        'read:org (classic token) or the "View Organization Copilot Metrics" permission, and the ' +
        'organisation\'s "Copilot usage metrics" policy enabled',
      setting: 'GITHUB_ORG (on a GitHub Enterprise Server without the reports API set GITHUB_COPILOT_API=legacy)',
    };
  if (route.startsWith('/enterprises/{enterprise}/copilot/metrics/reports'))
    return {
      scope: 'read:enterprise (classic token) or the "View Enterprise Copilot Metrics" permission',
      setting: 'GITHUB_ENTERPRISE',
    };
  if (route === '/orgs/{org}/copilot/metrics')
    return { scope: 'manage_billing:copilot or read:org', setting: 'GITHUB_ORG and GITHUB_COPILOT_API' };
  if (route.startsWith('/orgs/{org}/repos') || route.startsWith('/repos/'))
    return { scope: 'read access to public repositories (public_repo)', setting: 'GITHUB_SKILLS_ORG' };
  if (route.startsWith('/users/')) return { scope: 'read access to public data', setting: 'GITHUB_TRACKED_USERS' };
  return {};
}

/**
 * An Octokit failure through the shared table (src/connectors/http-errors.ts), keeping `status` so
 * callers can still treat a 404 of one user as data (a rejected row) rather than configuration.
 */
export function classifyGithubError(route: string, err: unknown): Error {
  const e = err as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  };
  // A cancelled activity's abort stays an abort.
  if (err instanceof Error && err.name === 'AbortError') return err;
  // Octokit reports "no answer" (DNS, refused, reset, timeout) as a 500 without a response.
  const answered = typeof e?.status === 'number' && e.status > 0 && e.response !== undefined;
  const data = e?.response?.data as { message?: unknown } | string | undefined;
  const detail =
    typeof data === 'string' ? data : typeof data?.message === 'string' ? data.message : (e?.message ?? undefined);
  const classified = classifyHttpFailure({
    service: 'GitHub',
    endpoint: route,
    status: answered ? e.status : undefined,
    headers: e?.response?.headers,
    detail,
    credentials: 'GITHUB_TOKEN',
    networkError: e?.message,
    ...routeHints(route),
  });
  return Object.assign(classified, { status: e?.status, cause: err });
}

function readRateLimit(h: Headers): RateLimitState | undefined {
  const remaining = h.get('x-ratelimit-remaining');
  if (remaining === null) return undefined;
  const limit = h.get('x-ratelimit-limit');
  const reset = h.get('x-ratelimit-reset');
  return {
    remaining: Number(remaining),
    limit: limit !== null ? Number(limit) : undefined,
    resetAt: reset !== null ? new Date(Number(reset) * 1000) : undefined,
  };
}

/** The URL of rel="next" in a Link header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  return link
    ?.split(',')
    .map((p) => /<([^>]+)>;\s*rel="next"/.exec(p)?.[1])
    .find(Boolean);
}
