// What both sample API servers share: a loopback node:http server on a free port, request
// accounting (per route and per page, so tests can prove a page was fetched once), failure
// injection, and a deterministic "chaos" mode that sprinkles 429s and 5xx into the demo.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SampleRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SampleResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string. */
  body?: unknown;
}

/** A failure to serve instead of the real answer, for `times` matching requests. */
export interface FailureRule {
  /** Exact path or a pattern; omitted → every path (the token endpoint included). */
  path?: string | RegExp;
  /** Only this page (page[number] or page). */
  page?: number;
  /** Skip this many matching requests before failing. */
  after?: number;
  times: number;
  respond:
    { status: number; headers?: Record<string, string>; body?: unknown } | { malformed: true } | { revokeTokens: true };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  page?: number;
  status: number;
  query: string;
}

export class RequestStats {
  total = 0;
  readonly log: RequestLogEntry[] = [];
  record(e: RequestLogEntry): void {
    this.total++;
    this.log.push(e);
  }
  /** Requests whose path matches (exact string or pattern), optionally only a given page. */
  count(path?: string | RegExp, page?: number): number {
    return this.log.filter((e) => matches(path, e.path) && (page === undefined || e.page === page)).length;
  }
  reset(): void {
    this.total = 0;
    this.log.length = 0;
  }
}

function matches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

export function pageOf(query: URLSearchParams): number | undefined {
  const p = query.get('page[number]') ?? query.get('page');
  return p === null ? undefined : Number(p);
}

export class FailureInjector {
  private rules: (FailureRule & { seen: number })[] = [];
  add(rule: FailureRule): void {
    this.rules.push({ ...rule, seen: 0 });
  }
  clear(): void {
    this.rules = [];
  }
  /** The rule that fires for this request, consuming one of its `times`. */
  take(req: SampleRequest): FailureRule['respond'] | undefined {
    for (const r of this.rules) {
      if (r.times <= 0 || !matches(r.path, req.path)) continue;
      if (r.page !== undefined && pageOf(req.query) !== r.page) continue;
      if (r.seen++ < (r.after ?? 0)) continue;
      r.times--;
      return r.respond;
    }
    return undefined;
  }
}

/** Every `every429`-th request gets a 429 (Retry-After: 1), every `every5xx`-th a 502: the demo's weather. */
export interface ChaosOptions {
  every429?: number;
  every5xx?: number;
}

export function chaosFor(n: number, chaos: ChaosOptions | undefined): SampleResponse | undefined {
  if (!chaos) return undefined;
  if (chaos.every429 && n % chaos.every429 === 0)
    return { status: 429, headers: { 'retry-after': '1' }, body: { error: 'Too Many Requests' } };
  if (chaos.every5xx && n % chaos.every5xx === 0) return { status: 502, body: { error: 'Bad Gateway' } };
  return undefined;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 on `port` (a free one when unset); the server does not keep the process alive. */
export async function listen(
  handler: (req: SampleRequest) => SampleResponse | 'malformed' | Promise<SampleResponse | 'malformed'>,
  onServed?: (req: SampleRequest, status: number) => void,
  port = 0,
): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sample.local');
      const sreq: SampleRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      Promise.resolve()
        .then(() => handler(sreq))
        .catch((err: unknown) => ({ status: 500, body: { message: (err as Error).message } }) as SampleResponse)
        .then((out) => {
          if (out === 'malformed') {
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
            res.end('[{"id": 1, "name": "trunc');
            onServed?.(sreq, 200);
            return;
          }
          const body = out.body === undefined ? '' : typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
          const headers: Record<string, string> = {
            ...(out.body !== undefined && { 'content-type': 'application/json; charset=utf-8' }),
            ...out.headers,
          };
          res.writeHead(out.status, headers);
          res.end(out.status === 304 ? undefined : body);
          onServed?.(sreq, out.status);
        });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.unref();
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** listen(), recording every request served (method, path, page, status, query) in `stats`. */
export function listenRecording(
  handler: Parameters<typeof listen>[0],
  stats: RequestStats,
  port = 0,
): Promise<RunningServer> {
  return listen(
    handler,
    (req, status) =>
      stats.record({
        method: req.method,
        path: req.path,
        page: pageOf(req.query),
        status,
        query: req.query.toString(),
      }),
    port,
  );
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SampleResponse {
  return { status, body, headers };
}
