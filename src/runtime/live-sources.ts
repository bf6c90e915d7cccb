// The live source connections, from configuration alone: real Kusto clusters, the configured school
// API and GitHub. The edge (stack/source-clients.ts) uses these for every source that has
// credentials and the sample servers for the others.
import type { Config } from '../config.js';
import { KustoCluster } from '../connectors/kusto/client.js';
import { ConfigError } from '../errors.js';
import type { GithubEndpoint, KustoClusterPair, SchoolApiEndpoint } from './deps.js';

const hostOf = (url: string) => new URL(url).host;

export function liveKustoClusters(config: Config): KustoClusterPair {
  const k = config.kusto;
  if (!k.analyticsClusterUrl || !k.examClusterUrl)
    throw new ConfigError('Kusto: set KUSTO_ANALYTICS_CLUSTER_URL and KUSTO_EXAM_CLUSTER_URL');
  const cluster = (url: string) =>
    new KustoCluster({ label: hostOf(url), url, auth: k.auth, queryTimeoutMs: k.queryTimeoutMs });
  return { mode: 'live', analytics: cluster(k.analyticsClusterUrl), exam: cluster(k.examClusterUrl) };
}

export function liveSchoolApi(config: Config): SchoolApiEndpoint {
  const c = config.schoolApi;
  if (!c.baseUrl || !c.tokenUrl || !c.clientId || !c.clientSecret) {
    throw new ConfigError(
      'school API: set SCHOOL_API_URL, SCHOOL_API_TOKEN_URL, SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET',
    );
  }
  return { baseUrl: c.baseUrl, tokenUrl: c.tokenUrl, clientId: c.clientId, clientSecret: c.clientSecret };
}

export function liveGithub(config: Config): GithubEndpoint {
  const g = config.github;
  return {
    baseUrl: g.apiUrl ?? 'https://api.github.com',
    token: g.token,
    org: g.org,
    enterprise: g.enterprise,
    skillsOrg: g.skillsOrg,
  };
}
