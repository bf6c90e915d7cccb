// What activities need from the outside world, built once at the edge (the worker, the local
// stack, a test) and handed to every family's createXActivities(deps). Source clients arrive here
// already chosen — live or sample — so no family decides that, and none imports sample code.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { KustoCluster } from '../connectors/kusto/client.js';
import type { Pool } from '../connectors/postgres.js';

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

export interface ActivityDeps {
  warehouse: Pool;
  oltp: Pool;
  outputDir: string;
  logger: Logger;
  /** The whole validated config, for activities that need their own section (Kusto, GitHub, …). */
  config: Config;
  sources: SourceClients;
}
