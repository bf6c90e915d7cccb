// The school REST API (42-style) over Node's fetch: OAuth2 client credentials refreshed before
// they expire and once more on a 401, page-numbered pages, a pause between calls, and retries
// (429 with Retry-After, 5xx, network errors) with backoff. Every HTTP request — token requests
// and retries included — is reported through onCall, so a run can account for what it spent.
import { AuthError } from '../../errors.js';
import { announcedWaitMs, classifyHttpFailure } from '../http-errors.js';
import { stallGuardedFetch } from '../stall-fetch.js';
import { backoffMs, retryAfterSeconds, sleep } from './wait.js';

export interface ApiCallEvent {
  /** Route template, e.g. /v2/cursus/{id}/users. */
  endpoint: string;
  status: number;
  /** A repeat of a request already sent (after a 429, 5xx, 401 or unreadable body). */
  retry: boolean;
  throttled: boolean;
  error: boolean;
  notModified: boolean;
  rateLimit?: { remaining: number; limit?: number; resetAt?: Date };
  at: Date;
}

export interface SchoolApiOptions {
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  sleepBetweenCallsMs: number;
  maxRetries: number;
  /** Multiplies Retry-After and backoff waits (tests: near 0). */
  backoffScale?: number;
  /** Refresh this long before expiry (capped at half the token's lifetime). */
  refreshMarginMs?: number;
  requestTimeoutMs?: number;
  /** Re-fetches of a page whose body is not a JSON array before it is given up as malformed. */
  malformedRetries?: number;
  onCall?: (e: ApiCallEvent) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface PageRequest {
  path: string;
  endpoint: string;
  query: Record<string, string>;
  page: number;
  size: number;
}

export type PageResult =
  | { kind: 'ok'; items: unknown[]; total?: number }
  | { kind: 'malformed'; status: number; reason: string; body: string };

interface Token {
  value: string;
  refreshAt: number;
}

const TOKEN_ENDPOINT = 'POST /oauth/token';

export class SchoolApiClient {
  private token?: Token;
  private lastCallStartedAt = 0;
  private readonly now: () => number;
  tokensIssued = 0;

  constructor(private readonly opts: SchoolApiOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One page of a list endpoint. Bodies that are not a JSON array come back as 'malformed', never thrown. */
  async getPage(req: PageRequest): Promise<PageResult> {
    const url = new URL(this.opts.baseUrl + req.path);
    for (const [k, v] of Object.entries(req.query)) url.searchParams.set(k, v);
    url.searchParams.set('page[number]', String(req.page));
    url.searchParams.set('page[size]', String(req.size));
    const malformedRetries = this.opts.malformedRetries ?? 1;
    let last: PageResult | undefined;
    for (let i = 0; i <= malformedRetries; i++) {
      const res = await this.send(req.endpoint, (token) => this.authorizedFetch(url, token!), {
        auth: true,
        firstIsRetry: i > 0,
      });
      const body = await res.text();
      const total = Number(res.headers.get('x-total'));
      try {
        const parsed: unknown = JSON.parse(body);
        if (Array.isArray(parsed))
          return {
            kind: 'ok',
            items: parsed,
            total: Number.isFinite(total) && res.headers.has('x-total') ? total : undefined,
          };
        last = {
          kind: 'malformed',
          status: res.status,
          reason: 'body is JSON but not an array',
          body: body.slice(0, 2000),
        };
      } catch (err) {
        last = {
          kind: 'malformed',
          status: res.status,
          reason: `body is not JSON: ${(err as Error).message}`,
          body: body.slice(0, 2000),
        };
      }
    }
    return last!;
  }

  private authorizedFetch(url: URL, token: string): Promise<Response> {
    return this.fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: this.signal(),
    });
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return this.token.value;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: this.opts.scope ?? 'public',
    });
    const res = await this.send(
      TOKEN_ENDPOINT,
      () =>
        this.fetch(this.opts.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          signal: this.signal(),
        }),
      { auth: false, firstIsRetry: false },
    );
    const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!json.access_token)
      throw new AuthError(`the school API token endpoint ${this.opts.tokenUrl} answered without an access_token`);
    const lifetimeMs = (json.expires_in ?? 7200) * 1000;
    const margin = Math.min(this.opts.refreshMarginMs ?? 60_000, lifetimeMs / 2);
    this.token = { value: json.access_token, refreshAt: this.now() + lifetimeMs - margin };
    this.tokensIssued++;
    return json.access_token;
  }

  /**
   * Sends with pacing and retries; returns a 2xx response. A 401 on an API call drops the token and
   * retries once with a fresh one; a second 401 (or any 401 from the token endpoint) is an AuthError.
   */
  private async send(
    endpoint: string,
    doFetch: (token?: string) => Promise<Response>,
    opts: { auth: boolean; firstIsRetry: boolean },
  ): Promise<Response> {
    let refreshed = false;
    let retry = opts.firstIsRetry;
    for (let attempt = 0; ; attempt++) {
      // The token request paces and retries on its own; its failures are not this request's.
      const token = opts.auth ? await this.accessToken() : undefined;
      await this.pace();
      let res: Response;
      try {
        res = await doFetch(token);
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        this.emit({
          endpoint,
          status: 0,
          retry,
          throttled: false,
          error: true,
          notModified: false,
          at: new Date(this.now()),
        });
        if (attempt >= this.opts.maxRetries)
          throw classifyHttpFailure({
            service: 'the school API',
            endpoint,
            networkError: `unreachable after ${attempt + 1} attempts: ${(err as Error).message}`,
          });
        await sleep(backoffMs(attempt, { scale: this.scale() }), this.opts.signal);
        retry = true;
        continue;
      }
      const s = res.status;
      this.report(endpoint, res, { retry, error: s >= 500, throttled: s === 429 });
      if (s >= 200 && s < 300) return res;
      const detail = (await res.text().catch(() => '')).slice(0, 300);
      retry = true;
      if (s === 401) {
        if (endpoint === TOKEN_ENDPOINT)
          throw new AuthError(
            `the school API refused the client credentials (401): ` +
              `check SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET`,
          );
        if (refreshed)
          throw new AuthError(`the school API refused a freshly issued token for ${endpoint} (401): ${detail}`);
        refreshed = true;
        this.token = undefined;
        attempt--; // a token refresh is not a failed attempt
        continue;
      }
      // 403 with rate-limit signs is throttling like 429; without, a missing permission.
      const throttled = s === 429 || (s === 403 && announcedWaitMs(res.headers, this.now()) !== undefined);
      if (throttled || s >= 500 || s === 408) {
        if (attempt >= this.opts.maxRetries)
          throw classifyHttpFailure({
            service: 'the school API',
            endpoint,
            status: s,
            headers: res.headers,
            detail: `still answered ${s} after ${attempt + 1} attempts${detail ? `: ${detail}` : ''}`,
            now: this.now(),
          });
        const after = throttled ? retryAfterSeconds(res.headers.get('retry-after'), this.now()) : undefined;
        await sleep(
          after !== undefined ? after * 1000 * this.scale() : backoffMs(attempt, { scale: this.scale() }),
          this.opts.signal,
        );
        continue;
      }
      throw classifyHttpFailure({
        service: 'the school API',
        endpoint,
        status: s,
        headers: res.headers,
        detail,
        credentials: 'SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET',
        scope: "the scope or role for it (the OAuth2 application's scopes)",
        setting: 'SCHOOL_API_URL and the scope settings (SCHOOL_API_CURSUS_ID …)',
        now: this.now(),
      });
    }
  }

  /** SLEEP_BETWEEN_CALLS: a minimum gap between the starts of two requests. */
  private async pace(): Promise<void> {
    const wait = this.lastCallStartedAt + this.opts.sleepBetweenCallsMs - this.now();
    if (this.lastCallStartedAt && wait > 0) await sleep(wait, this.opts.signal);
    this.lastCallStartedAt = this.now();
  }

  private report(
    endpoint: string,
    res: Response,
    flags: { retry: boolean; error: boolean; throttled?: boolean },
  ): void {
    const remaining = res.headers.get('x-hourly-ratelimit-remaining');
    const limit = res.headers.get('x-hourly-ratelimit-limit');
    this.emit({
      endpoint,
      status: res.status,
      retry: flags.retry,
      throttled: flags.throttled ?? false,
      error: flags.error,
      notModified: false,
      rateLimit:
        remaining !== null
          ? { remaining: Number(remaining), limit: limit !== null ? Number(limit) : undefined }
          : undefined,
      at: new Date(this.now()),
    });
  }

  private emit(e: ApiCallEvent): void {
    this.opts.onCall?.(e);
  }

  private scale(): number {
    return this.opts.backoffScale ?? 1;
  }

  /** Abandons a request on REQUEST_STALL_MS of silence, whatever its total timeout. */
  private readonly fetch = stallGuardedFetch();

  private signal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000);
    return this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
  }
}
