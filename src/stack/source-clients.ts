// The one place that chooses, per source, live or sample: a source with credentials in the config
// is read live; one without is served by its local sample server, started in this process on first
// use. Everything downstream (activities, plan, profile, demo seeders) receives the result.
import type { Config } from '../config.js';
import { KustoCluster } from '../connectors/kusto/client.js';
import { SAMPLE_KUSTO_TOKEN, sampleKustoServer } from '../pipelines/learning-roi/sample/source.js';
import type { GithubEndpoint, KustoClusterPair, SchoolApiEndpoint, SourceClients } from '../runtime/deps.js';
import { liveGithub, liveKustoClusters, liveSchoolApi } from '../runtime/live-sources.js';
import { sampleGithub, samplePort, sampleSchoolApi } from './sample-servers.js';

/** Memoises a connection; a failed attempt is forgotten so the next call tries again. */
function once<T>(open: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= open().catch((err: unknown) => {
      p = undefined;
      throw err;
    });
    return p;
  };
}

async function sampleKusto(config: Config): Promise<KustoClusterPair> {
  const { server } = await sampleKustoServer(
    config.learningRoi.sampleScale,
    await samplePort(config.sampleApi.kustoPort),
  );
  const auth = { kind: 'token-provider' as const, token: async () => SAMPLE_KUSTO_TOKEN };
  const cluster = (label: string) =>
    new KustoCluster({ label, url: server.url, auth, queryTimeoutMs: config.kusto.queryTimeoutMs });
  return { mode: 'sample', analytics: cluster('sample gh-analytics'), exam: cluster('sample cse-analytics') };
}

async function sampleSchool(config: Config): Promise<SchoolApiEndpoint> {
  const s = await sampleSchoolApi(config);
  return { baseUrl: s.url, tokenUrl: s.tokenUrl, clientId: s.clientId, clientSecret: s.clientSecret };
}

async function sampleGithubEndpoint(config: Config): Promise<GithubEndpoint> {
  const s = await sampleGithub(config);
  return {
    baseUrl: s.url,
    token: s.token,
    org: s.org,
    enterprise: s.enterprise,
    skillsOrg: s.skillsOrg,
    sampleUsers: s.usernames,
  };
}

export function createSourceClients(config: Config): SourceClients {
  return {
    kusto: once(async () => (config.kusto.mode === 'live' ? liveKustoClusters(config) : sampleKusto(config))),
    schoolApi: once(async () => (config.schoolApi.sample ? sampleSchool(config) : liveSchoolApi(config))),
    github: once(async () => (config.github.sample ? sampleGithubEndpoint(config) : liveGithub(config))),
  };
}
