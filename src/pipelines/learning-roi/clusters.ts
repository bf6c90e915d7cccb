// The two clusters of the learning ROI pipeline as the sources hand them over (live or sample,
// chosen at the edge), plus the label sync_status.json shows for where a source's rows came from.
import type { Config } from '../../config.js';
import type { KustoClusterPair } from '../../runtime/deps.js';

export type KustoClusters = KustoClusterPair;

const hostOf = (url: string) => new URL(url).host;

/** Where a cluster's rows come from, without connecting: for sync_status.json. */
export function kustoOriginLabel(config: Config, cluster: 'analytics' | 'exam'): string {
  const k = config.kusto;
  if (k.mode === 'sample') return `sample (built-in, scale ${config.learningRoi.sampleScale})`;
  return `kusto://${hostOf((cluster === 'exam' ? k.examClusterUrl : k.analyticsClusterUrl)!)}`;
}
