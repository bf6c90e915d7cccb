// Every way a Kusto query can fail, sorted into what a retry can fix and what it cannot.
// Retryable failures are KustoQueryError (Temporal retries any error type not listed as
// non-retryable); the rest become the core's AuthError / ValidationError / ConfigError, which the
// retry policies never retry. The Kusto message is kept in every case: it is what an operator needs.
import { AuthError, ConfigError, PermissionError, ValidationError } from '../../errors.js';
import { announcedWaitMs, classifyHttpFailure, RetryableError, type HeaderSource } from '../http-errors.js';

export type KustoFailureKind = 'throttled' | 'transient' | 'limits';

/** A failure worth retrying: throttling, a network fault, a server-side hiccup, a cancelled query. */
export class KustoQueryError extends RetryableError {
  override name = 'KustoQueryError';
  constructor(
    message: string,
    readonly kind: KustoFailureKind,
    readonly code?: string,
    retryAfterMs?: number,
  ) {
    super(message, retryAfterMs);
  }
}

/** The shared table's words for Kusto: what a 401 / 403 / 404 means here and what to check. */
export const KUSTO_HINTS = {
  credentials:
    'KUSTO_AUTH and its credentials (KUSTO_TENANT_ID, KUSTO_CLIENT_ID, KUSTO_CLIENT_SECRET or KUSTO_ACCESS_TOKEN)',
  scope: "the Viewer role on the database (the principal's permissions on the cluster)",
  setting: 'KUSTO_ANALYTICS_CLUSTER_URL / KUSTO_EXAM_CLUSTER_URL and KUSTO_EXAM_DATABASE',
};

/**
 * The result set went over Kusto's limits (record count, size, memory): the same query fails the
 * same way again, so callers that can narrow the query (a smaller window) do so; others fail.
 */
export class KustoLimitsError extends KustoQueryError {
  override name = 'KustoLimitsError';
  constructor(message: string, code?: string) {
    super(message, 'limits', code);
  }
}

/** One entry of the OneApiErrors format Kusto uses for failed requests and partial failures. */
export interface OneApiError {
  code?: string;
  message?: string;
  '@type'?: string;
  '@message'?: string;
  '@permanent'?: boolean;
}

// Native error codes Kusto reports when a query hits its limits (see "Errors in native code").
const LIMIT_MARKERS = [
  'E_QUERY_RESULT_SET_TOO_LARGE',
  '80DA0003',
  'E_RUNAWAY_QUERY',
  '80DA0001',
  'E_LOW_MEMORY_CONDITION',
  'LimitsExceeded',
  'exceeded the allowed limits',
];

export function oneApiText(e: OneApiError): string {
  const main = e['@message'] ?? e.message ?? 'unknown Kusto error';
  return e.code && !main.includes(e.code) ? `${e.code}: ${main}` : main;
}

/** Classifies Kusto's own error reports (HTTP error bodies, DataSetCompletion, inline partial failures). */
export function fromOneApiErrors(
  errors: OneApiError[],
  where: string,
  httpStatus?: number,
  headers?: HeaderSource,
): Error {
  const text =
    errors.map(oneApiText).join(' | ') || `Kusto reported an error with no message (HTTP ${httpStatus ?? '200'})`;
  const message = `${where}: ${text}`;
  const joined = errors
    .map((e) => `${e.code ?? ''} ${e['@type'] ?? ''} ${e['@message'] ?? ''} ${e.message ?? ''}`)
    .join(' ');
  if (LIMIT_MARKERS.some((m) => joined.includes(m))) return new KustoLimitsError(message, errors[0]?.code);
  const wait = announcedWaitMs(headers);
  if (httpStatus === 429 || /Throttl/i.test(joined) || (httpStatus === 403 && wait !== undefined))
    return new KustoQueryError(message, 'throttled', errors[0]?.code, wait);
  if (httpStatus === 401 || httpStatus === 403 || httpStatus === 404)
    return classifyHttpFailure({ service: 'Kusto', endpoint: where, status: httpStatus, detail: text, ...KUSTO_HINTS });
  const permanent = errors.some((e) => e['@permanent'] === true);
  const transient = errors.length > 0 && errors.every((e) => e['@permanent'] === false);
  if (permanent) return new ValidationError(message);
  if (transient) return new KustoQueryError(message, 'transient', errors[0]?.code);
  if (httpStatus !== undefined && httpStatus >= 400 && httpStatus < 500 && httpStatus !== 408)
    return new ValidationError(message);
  return new KustoQueryError(message, 'transient', errors[0]?.code);
}

interface AxiosLikeError {
  isAxiosError?: boolean;
  code?: string;
  message: string;
  response?: { status: number; data?: unknown; headers?: Record<string, string | undefined> };
}

function httpErrorBody(data: unknown): OneApiError[] {
  if (data && typeof data === 'object' && 'error' in data) return [(data as { error: OneApiError }).error];
  if (typeof data === 'string' && data.trim()) {
    try {
      return httpErrorBody(JSON.parse(data));
    } catch {
      return [{ message: data.slice(0, 500) }];
    }
  }
  return [];
}

/** Turns whatever the azure-kusto-data client threw into a classified error carrying the Kusto message. */
export function classifyKustoError(err: unknown, where: string): Error {
  if (
    err instanceof KustoQueryError ||
    err instanceof AuthError ||
    err instanceof PermissionError ||
    err instanceof ValidationError ||
    err instanceof ConfigError
  )
    return err;
  const e = err as Error & { name?: string; inner?: AxiosLikeError };
  if (e?.name === 'KustoAuthenticationError')
    return new AuthError(`${where}: Kusto authentication failed: ${e.message}`);
  if (e?.name === 'ThrottlingError') {
    const body = httpErrorBody(e.inner?.response?.data);
    return new KustoQueryError(
      `${where}: throttled by Kusto (HTTP 429)${body.length ? `: ${body.map(oneApiText).join(' | ')}` : ''}`,
      'throttled',
      undefined,
      announcedWaitMs(e.inner?.response?.headers),
    );
  }
  const ax = e as unknown as AxiosLikeError;
  if (ax?.isAxiosError) {
    if (ax.response)
      return fromOneApiErrors(
        httpErrorBody(ax.response.data),
        `${where} (HTTP ${ax.response.status})`,
        ax.response.status,
        ax.response.headers,
      );
    // No response at all: the cluster is unreachable or the connection broke mid-way.
    return new KustoQueryError(
      `${where}: Kusto unreachable (${ax.code ?? 'network error'}): ${ax.message}`,
      'transient',
      ax.code,
    );
  }
  const message = e?.message ?? String(err);
  if (/hostname is currently not trusted/.test(message)) return new ConfigError(`${where}: ${message}`);
  // The client's cloud-info lookup (GET /v1/rest/auth/metadata) folds its HTTP error into a message.
  const cloudInfo = /^Failed to get cloud info for cluster (\S+) - (.*)$/s.exec(message);
  if (cloudInfo) {
    const status = /status code (\d{3})/.exec(cloudInfo[2]!)?.[1];
    return classifyHttpFailure({
      service: 'Kusto',
      endpoint: `${where}: cloud-info lookup GET ${cloudInfo[1]}/v1/rest/auth/metadata`,
      status: status ? Number(status) : undefined,
      detail: cloudInfo[2],
      networkError: cloudInfo[2],
      ...KUSTO_HINTS,
    });
  }
  return new KustoQueryError(`${where}: ${message}`, 'transient');
}
