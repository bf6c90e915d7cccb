// GitHub's Copilot usage metrics reports (the API that replaced /orgs/{org}/copilot/metrics): a
// REST call answers with signed download links ({ download_links, report_day } or
// { download_links, report_start_day, report_end_day }); the report files behind them are NDJSON.
// The files are fetched WITHOUT the token (a signed URL carries its own authorisation, and the
// token must never travel to a storage host), read line by line as they stream in, and a link
// that has expired by the time we use it is replaced by asking the API for fresh links.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { announcedWaitMs, classifyHttpFailure } from '../http-errors.js';
import { stallGuardedFetch } from '../stall-fetch.js';
import type { GithubClient } from './client.js';

export type CopilotReport = 'organization-1-day' | 'users-1-day' | 'organization-28-day' | 'users-28-day';
export type CopilotScope = { kind: 'org'; org: string } | { kind: 'enterprise'; enterprise: string };

/** The route and parameters of a report for an organisation or an enterprise. */
export function reportRoute(
  scope: CopilotScope,
  report: CopilotReport,
  day?: string,
): { route: string; params: Record<string, string> } {
  const [level, span] = report.split(/-(?=1-day|28-day)/) as ['organization' | 'users', '1-day' | '28-day'];
  const base =
    scope.kind === 'org' ? '/orgs/{org}/copilot/metrics/reports' : '/enterprises/{enterprise}/copilot/metrics/reports';
  const name = level === 'users' ? 'users' : scope.kind === 'org' ? 'organization' : 'enterprise';
  const route = `${base}/${name}-${span}${span === '28-day' ? '/latest' : ''}`;
  const params: Record<string, string> = scope.kind === 'org' ? { org: scope.org } : { enterprise: scope.enterprise };
  if (span === '1-day') {
    if (!day) throw new Error(`${report} needs a day`);
    params.day = day;
  }
  return { route, params };
}

export interface ReportLinks {
  download_links: string[];
  report_day?: string;
  report_start_day?: string;
  report_end_day?: string;
}

/** One line of a report file: its parsed value, or why it could not be parsed. */
export type ReportLine =
  { file: number; line: number; value: unknown } | { file: number; line: number; error: string; raw: string };

export interface ReportRead {
  /** false: GitHub answered 204, the report for that day is not generated yet. */
  available: boolean;
  links?: Omit<ReportLinks, 'download_links'>;
  files: number;
  lines: number;
  /** Times the links were requested again because a signed link had expired. */
  linkRefreshes: number;
}

/** A signed link refused by the storage host: expired (or otherwise no longer valid) → ask for new links. */
class LinkRefused extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`signed report link refused (${status}): ${detail}`);
  }
}

const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Reads a report: asks for its links, downloads each file and hands every line to onLine in order.
 * A file whose link is refused before any of its lines was read is retried with fresh links (up to
 * maxLinkRefreshes times); a failure after lines were handed on is thrown (the caller's transaction
 * rolls back and the whole report is read again on retry).
 */
export async function readCopilotReport(
  client: GithubClient,
  scope: CopilotScope,
  report: CopilotReport,
  opts: {
    day?: string;
    /** Called once the links are known, before any line: the report's day or range. */
    onLinks?: (meta: Omit<ReportLinks, 'download_links'>) => Promise<void>;
    onLine: (l: ReportLine) => Promise<void>;
    maxLinkRefreshes?: number;
    signal?: AbortSignal;
    requestTimeoutMs?: number;
  },
): Promise<ReportRead> {
  const { route, params } = reportRoute(scope, report, opts.day);
  const ask = () => client.getOrNoContent<ReportLinks>(route, params);
  let answer = await ask();
  if (!answer) return { available: false, files: 0, lines: 0, linkRefreshes: 0 };
  const { download_links: _l, ...meta } = answer;
  await opts.onLinks?.(meta);
  let refreshes = 0;
  let lines = 0;
  const files = answer.download_links.length;
  for (let i = 0; i < files; i++) {
    for (;;) {
      const link = answer.download_links[i];
      if (!link) throw new Error(`GitHub ${route}: fresh links no longer include file ${i + 1} of ${files}`);
      try {
        lines += await downloadLines(client, route, link, i + 1, opts);
        break;
      } catch (err) {
        if (!(err instanceof LinkRefused) || refreshes >= (opts.maxLinkRefreshes ?? 2)) {
          if (err instanceof LinkRefused)
            throw classifyHttpFailure({
              service: 'GitHub report download',
              endpoint: `${route} file ${i + 1}`,
              status: err.status,
              detail: `${err.detail}; still refused after ${refreshes} fresh links`,
            });
          throw err;
        }
        refreshes++;
        const fresh = await ask();
        if (!fresh) throw new Error(`GitHub ${route}: the report disappeared (204) while it was being downloaded`);
        answer = fresh;
      }
    }
  }
  return { available: true, links: meta, files, lines, linkRefreshes: refreshes };
}

/** Streams one report file; returns the number of lines read. */
async function downloadLines(
  client: GithubClient,
  route: string,
  link: string,
  file: number,
  opts: { onLine: (l: ReportLine) => Promise<void>; signal?: AbortSignal; requestTimeoutMs?: number },
): Promise<number> {
  const timeout = AbortSignal.timeout(opts.requestTimeoutMs ?? 300_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const endpoint = `${route} (report file)`;
  let res: Response;
  try {
    // No Authorization header: the link is signed, and the token stays with api.github.com.
    // Abandoned after REQUEST_STALL_MS of silence: a large file on a slow link keeps going, a silent one does not.
    res = await stallGuardedFetch()(link, {
      headers: { accept: 'application/x-ndjson, application/json' },
      signal,
      redirect: 'follow',
    });
  } catch (err) {
    client.reportCall({ endpoint, status: 0, error: true });
    if (opts.signal?.aborted) throw err;
    throw classifyHttpFailure({
      service: 'GitHub report download',
      endpoint: `${route} file ${file}`,
      networkError: (err as Error).message,
    });
  }
  client.reportCall({ endpoint, status: res.status, error: res.status >= 500 });
  if (!res.ok) {
    const detail = (await res.text().catch(() => '')).slice(0, 300);
    // A refused signed link is usually an expired one: ask for fresh links. A throttled one is not.
    const throttled = res.status === 429 || announcedWaitMs(res.headers) !== undefined;
    if (!throttled && [400, 401, 403, 404, 410].includes(res.status)) throw new LinkRefused(res.status, detail);
    throw classifyHttpFailure({
      service: 'GitHub report download',
      endpoint: `${route} file ${file}`,
      status: res.status,
      headers: res.headers,
      detail,
    });
  }
  if (!res.body) return 0;
  const rl = createInterface({
    input: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
    crlfDelay: Infinity,
  });
  let n = 0;
  for await (const raw of rl) {
    n++;
    if (!raw.trim()) continue;
    if (raw.length > MAX_LINE_CHARS) {
      await opts.onLine({
        file,
        line: n,
        error: `line longer than ${MAX_LINE_CHARS} characters`,
        raw: raw.slice(0, 2000),
      });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      await opts.onLine({ file, line: n, error: `not JSON: ${(err as Error).message}`, raw: raw.slice(0, 2000) });
      continue;
    }
    await opts.onLine({ file, line: n, value });
  }
  return n;
}
