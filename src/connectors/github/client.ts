// GitHub REST through @octokit/rest with the throttling and retry plugins. On top of them:
// conditional requests (ETag / Last-Modified in, 304 out as a cache hit), a wait for the primary
// rate-limit reset before a request that would surely be refused, and one report per HTTP request
// (retries included) so a run can account for every call it spent and the budget it left.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { ApiCallEvent } from '../school-api/client.js';
import { sleep } from '../school-api/wait.js';

export type { ApiCallEvent };

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
      throw err;
    }
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
        res = await fetch(input, { ...init, signal });
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
