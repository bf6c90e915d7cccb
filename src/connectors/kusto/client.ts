// A Kusto cluster as learnsync uses it: the azure-kusto-data client (auth, trusted endpoints,
// request headers, 429 detection) plus a server timeout on every query, query parameters instead
// of string splicing, and a strict reading of the v2 response so no partial failure passes as data.
import type { TokenCredential } from '@azure/identity';
import {
  ClientRequestProperties,
  CloudSettings,
  Client as KustoClient,
  KustoConnectionStringBuilder,
} from 'azure-kusto-data';
import { classifyHttpFailure, RetryableError } from '../http-errors.js';
import { withLiveness, type HttpLivenessOptions } from '../http-liveness.js';
import type { KustoConfig } from '../../config.js';
import { classifyKustoError, KUSTO_HINTS, KustoQueryError } from './errors.js';
import { readPrimaryResult, type KustoTable } from './frames.js';

export type { KustoColumn, KustoTable } from './frames.js';

export type KustoAuth =
  | KustoConfig['auth']
  /** Any @azure/identity credential, e.g. a test double or a workload-identity credential. */
  | { kind: 'credential'; credential: TokenCredential }
  /** A callback returning a bearer token: the in-process sample server accepts a fixed one. */
  | { kind: 'token-provider'; token: () => Promise<string> };

export interface KustoQuery {
  /** Short name for messages and logs; also the first comment line of the query text. */
  name: string;
  database: string;
  text: string;
  /** Values of the query's `declare query_parameters(...)`, as Kusto literals in string form. */
  parameters?: Record<string, string>;
  /** Overrides the cluster's server timeout for this query (live reads use a short one). */
  timeoutMs?: number;
}

export interface KustoClusterOptions {
  /** Human name for messages, e.g. "gh-analytics". */
  label: string;
  url: string;
  auth: KustoAuth;
  queryTimeoutMs: number;
  /** The silent-network watchdog of every query (http-liveness.ts); tests probe faster. */
  liveness?: HttpLivenessOptions;
}

async function buildConnection(url: string, auth: KustoAuth): Promise<KustoConnectionStringBuilder> {
  switch (auth.kind) {
    case 'app-key':
      return KustoConnectionStringBuilder.withAadApplicationKeyAuthentication(
        url,
        auth.clientId,
        auth.clientSecret,
        auth.tenantId,
      );
    case 'managed-identity':
      return auth.clientId
        ? KustoConnectionStringBuilder.withUserManagedIdentity(url, auth.clientId)
        : KustoConnectionStringBuilder.withSystemManagedIdentity(url);
    case 'access-token':
      return KustoConnectionStringBuilder.withAccessToken(url, auth.accessToken);
    case 'credential':
      return KustoConnectionStringBuilder.withTokenCredential(url, auth.credential);
    case 'token-provider':
      return KustoConnectionStringBuilder.withTokenProvider(url, auth.token);
    case 'default': {
      // Loaded only when used: az login, workload identity, managed identity, environment variables…
      const { DefaultAzureCredential } = await import('@azure/identity');
      return KustoConnectionStringBuilder.withTokenCredential(url, new DefaultAzureCredential());
    }
  }
}

/** Retryable failures of this connector are KustoQueryErrors, whichever request failed. */
function asKustoError(e: Error): Error {
  if (!(e instanceof RetryableError) || e instanceof KustoQueryError) return e;
  const throttled = e.status === 429 || e.status === 403;
  return new KustoQueryError(e.message, throttled ? 'throttled' : 'transient', undefined, e.retryAfterMs);
}

export class KustoCluster {
  private client?: Promise<KustoClient>;

  constructor(readonly options: KustoClusterOptions) {}

  get label(): string {
    return this.options.label;
  }

  private connect(): Promise<KustoClient> {
    this.client ??= buildConnection(this.options.url, this.options.auth).then((kcsb) => {
      kcsb.setConnectorDetails('learnsync', '0.2.0');
      const client = new KustoClient(kcsb);
      // The body as text: axios's JSON.parse would round every long above 2^53 before we see it;
      // frames.ts parses it keeping their digits (and error bodies are parsed from text too).
      client.axiosInstance.defaults.responseType = 'text';
      client.axiosInstance.defaults.transformResponse = [(data: unknown) => data];
      return client;
    });
    return this.client;
  }

  /** Runs a query and returns its primary result; failures come back classified (see errors.ts). */
  async query(q: KustoQuery): Promise<KustoTable> {
    const where = `Kusto query ${q.name} on ${this.options.label}/${q.database}`;
    const props = new ClientRequestProperties();
    // The server stops the query at this timeout; the client waits 30 s longer for the answer.
    props.setTimeout(q.timeoutMs ?? this.options.queryTimeoutMs);
    for (const [k, v] of Object.entries(q.parameters ?? {})) props.setParameter(k, v);
    // Raw frames: the SDK's parser folds every failure into one string; we classify them ourselves.
    props.raw = true;
    let raw: unknown;
    // A query may compute for minutes in silence; a cluster that stops answering at all is left in
    // seconds — the auth-metadata lookup of a fresh process included.
    const watched = <T>(call: () => Promise<T>) => withLiveness(this.options.url, 'Kusto', call, this.options.liveness);
    try {
      await watched(() => this.lookUpCloudInfo(where));
      const client = await this.connect();
      raw = await watched(() => client.execute(q.database, q.text, props));
    } catch (err) {
      throw classifyKustoError(err, where);
    }
    return readPrimaryResult(raw, where);
  }

  /**
   * The cluster's auth metadata (GET /v1/rest/auth/metadata), fetched by us and handed to the
   * client's cache: the client's own lookup folds a 401 or a throttled answer into a bare message,
   * losing the status and Retry-After the shared error table needs. A 404 means a proxy without the
   * endpoint: public-cloud defaults, as the client itself does.
   */
  private async lookUpCloudInfo(where: string): Promise<void> {
    const url = this.options.url;
    if (CloudSettings.getFromCache(url)) return;
    const endpoint = `${new URL(url).origin}/v1/rest/auth/metadata`;
    const failure = { service: 'Kusto', endpoint: `${where}: cloud-info lookup GET ${endpoint}`, ...KUSTO_HINTS };
    let res: Response;
    try {
      res = await fetch(endpoint, {
        headers: { 'cache-control': 'no-cache', accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const code = ((err as Error).cause as { code?: string } | undefined)?.code;
      throw asKustoError(
        classifyHttpFailure({
          ...failure,
          networkError: `unreachable: ${(err as Error).message}${code ? ` ${code}` : ''}`,
        }),
      );
    }
    if (res.status === 404) return CloudSettings.writeToCache(url);
    const text = await res.text().catch(() => '');
    if (res.status !== 200)
      throw asKustoError(
        classifyHttpFailure({ ...failure, status: res.status, headers: res.headers, detail: text.slice(0, 300) }),
      );
    let info: { AzureAD?: Parameters<typeof CloudSettings.writeToCache>[1] } = {};
    try {
      info = JSON.parse(text) as typeof info;
    } catch {
      // an unreadable answer: the client's defaults, as it would do itself
    }
    CloudSettings.writeToCache(url, info.AzureAD ?? undefined);
  }

  async close(): Promise<void> {
    const c = await this.client?.catch(() => undefined);
    c?.close();
  }
}
