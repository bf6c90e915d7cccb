// The two clusters of the learning ROI pipeline, from configuration: the real ones when
// KUSTO_*_CLUSTER_URL are set, otherwise both pointed at the in-process sample server.
import type { Config } from '../../config.js';
import { KustoCluster } from '../../connectors/kusto/client.js';
import { sampleKustoServer, SAMPLE_KUSTO_TOKEN } from './sample/source.js';

export interface KustoClusters {
  mode: 'live' | 'sample';
  analytics: KustoCluster;
  exam: KustoCluster;
  /** Where a source's rows came from, for sync_status.json: "kusto://host/db" or "sample". */
  describe(cluster: 'analytics' | 'exam'): string;
}

const hostOf = (url: string) => new URL(url).host;

const cache = new WeakMap<Config, Promise<KustoClusters>>();

export function kustoClustersFor(config: Config): Promise<KustoClusters> {
  let c = cache.get(config);
  if (!c) {
    c = connect(config);
    c.catch(() => cache.delete(config));
    cache.set(config, c);
  }
  return c;
}

async function connect(config: Config): Promise<KustoClusters> {
  const k = config.kusto;
  if (k.mode === 'live') {
    const analytics = new KustoCluster({ label: hostOf(k.analyticsClusterUrl!), url: k.analyticsClusterUrl!, auth: k.auth, queryTimeoutMs: k.queryTimeoutMs });
    const exam = new KustoCluster({ label: hostOf(k.examClusterUrl!), url: k.examClusterUrl!, auth: k.auth, queryTimeoutMs: k.queryTimeoutMs });
    return { mode: 'live', analytics, exam, describe: (c) => kustoOriginLabel(config, c) };
  }
  const { server } = await sampleKustoServer(config.learningRoi.sampleScale);
  const auth = { kind: 'token-provider' as const, token: async () => SAMPLE_KUSTO_TOKEN };
  return {
    mode: 'sample',
    analytics: new KustoCluster({ label: 'sample gh-analytics', url: server.url, auth, queryTimeoutMs: k.queryTimeoutMs }),
    exam: new KustoCluster({ label: 'sample cse-analytics', url: server.url, auth, queryTimeoutMs: k.queryTimeoutMs }),
    describe: (c) => kustoOriginLabel(config, c),
  };
}

/** Where a cluster's rows come from, without connecting: for sync_status.json. */
export function kustoOriginLabel(config: Config, cluster: 'analytics' | 'exam'): string {
  const k = config.kusto;
  if (k.mode === 'sample') return `sample (built-in, scale ${config.learningRoi.sampleScale})`;
  return `kusto://${hostOf((cluster === 'exam' ? k.examClusterUrl : k.analyticsClusterUrl)!)}`;
}
