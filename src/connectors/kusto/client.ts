// A Kusto cluster as learnsync uses it: the azure-kusto-data client (auth, trusted endpoints,
// request headers, 429 detection) plus a server timeout on every query, query parameters instead
// of string splicing, and a strict reading of the v2 response so no partial failure passes as data.
import type { TokenCredential } from '@azure/identity';
import { ClientRequestProperties, Client as KustoClient, KustoConnectionStringBuilder } from 'azure-kusto-data';
import type { KustoConfig } from '../../config.js';
import { classifyKustoError } from './errors.js';
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

export class KustoCluster {
  private client?: Promise<KustoClient>;

  constructor(readonly options: KustoClusterOptions) {}

  get label(): string {
    return this.options.label;
  }

  private connect(): Promise<KustoClient> {
    this.client ??= buildConnection(this.options.url, this.options.auth).then((kcsb) => {
      kcsb.setConnectorDetails('learnsync', '0.1.0');
      return new KustoClient(kcsb);
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
    try {
      const client = await this.connect();
      raw = await client.execute(q.database, q.text, props);
    } catch (err) {
      throw classifyKustoError(err, where);
    }
    return readPrimaryResult(raw, where);
  }

  async close(): Promise<void> {
    const c = await this.client?.catch(() => undefined);
    c?.close();
  }
}
