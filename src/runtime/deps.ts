// What activities need from the outside world, built once at the edge (the worker, the local
// stack, a test) and handed to every family's createXActivities(deps). Source clients arrive here
// already chosen — live or sample — so no family decides that, and none imports sample code.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { KustoCluster } from '../connectors/kusto/client.js';
import type { Pool } from '../connectors/postgres.js';
import type { SourceReader } from '../connectors/app-db/source.js';
import type { BigQueryTarget } from '../connectors/bigquery/client.js';

/** The two Kusto clusters the learning-ROI sources live on. */
export interface KustoClusterPair {
  mode: 'live' | 'sample';
  analytics: KustoCluster;
  exam: KustoCluster;
}

/** Where the school REST API and its OAuth2 token endpoint are, with the client credentials. */
export interface SchoolApiEndpoint {
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** The GitHub API to read: github.com (or GITHUB_API_URL) with a token, or the sample server. */
export interface GithubEndpoint {
  baseUrl: string;
  token?: string;
  org?: string;
  /** Enterprise whose Copilot reports are read as well (GITHUB_ENTERPRISE). */
  enterprise?: string;
  skillsOrg: string;
  /** Learners the sample server knows, tracked in sample mode only. */
  sampleUsers?: string[];
}

/** Source connections, opened on first use (a sample server starts only when a run needs it). */
export interface SourceClients {
  kusto(): Promise<KustoClusterPair>;
  schoolApi(): Promise<SchoolApiEndpoint>;
  github(): Promise<GithubEndpoint>;
}

/** A failed app-db table sync, as the error tracker receives it. */
export interface TableFailure {
  table: string;
  pipeline: string;
  syncMode: string;
  workflowId: string | null;
  attempt: number | null;
  error: Error;
}

export interface TableFailureReporter {
  notify(failure: TableFailure): Promise<void>;
}

/**
 * The app-db family's ends, chosen by the wiring (src/stack/app-db.ts): the BigQuery target (the
 * local emulator or BigQuery) and readers of the application database (sample SQLite or the real one).
 */
export interface AppDbDeps {
  /** Resolved lazily: the local emulator only starts when an app-db node first runs. */
  target(): Promise<BigQueryTarget>;
  /** A fresh reader per activity attempt; the activity closes it. */
  openSource(): Promise<SourceReader>;
  errorReporter?: TableFailureReporter;
  /** Test seam: runs between the load job and the MERGE of every table. */
  beforeApply?: (table: string) => Promise<void>;
  /** Test seams of a direct load: its rows per load job, and a call after each job (see bigquery-sync.ts). */
  directLoadRowsPerJob?: number;
  afterLoadJob?: (table: string, job: number) => Promise<void>;
  close(): Promise<void>;
}

export interface ActivityDeps {
  warehouse: Pool;
  oltp: Pool;
  outputDir: string;
  logger: Logger;
  /** The whole validated config, for activities that need their own section (Kusto, GitHub, …). */
  config: Config;
  sources: SourceClients;
  /** BigQuery target and application-database reader of the app-db family. */
  appDb?: AppDbDeps;
}
