// deploy/'s alert rules: the plain Prometheus rules file and the PrometheusRule carry the same
// alerts with the same expressions, and every learnsync series they use is one learnsync exports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { metricsRegistry } from '../../src/runtime/metrics.js';
// The worker's CDC gauges (set by the capture activity, served by the worker's /metrics).
import '../../src/runtime/cdc/status.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');
const rules = (text: string) =>
  [...text.matchAll(/alert: (\w+)\n\s+expr: '?(.+?)'?\n/g)].map((m) => ({ alert: m[1], expr: m[2]!.trim() }));

describe('deploy monitoring', () => {
  it('ships the same alerts as a rules file and as a PrometheusRule', () => {
    const plain = rules(read('deploy/prometheus/alerts.rules.yml'));
    expect(plain.map((r) => r.alert)).toEqual([
      'LearnsyncJobOverdue',
      'LearnsyncJobFailed',
      'LearnsyncRowsDropped',
      'LearnsyncCdcLagHigh',
      'LearnsyncCdcWalRetained',
      'LearnsyncCdcWalNearLimit',
      'LearnsyncServeDown',
    ]);
    expect(rules(read('deploy/k8s/monitoring/prometheusrule.yaml'))).toEqual(plain);
  });

  it('uses only series that learnsync exports', async () => {
    const exported = new Set((await metricsRegistry.getMetricsAsJSON()).map((m) => m.name));
    for (const m of read('src/server/routes/metrics.ts').matchAll(/name: '(learnsync_\w+)'/g)) exported.add(m[1]!);
    const used = new Set(
      [...read('deploy/prometheus/alerts.rules.yml').matchAll(/\b(learnsync_[a-z_]+)/g)].map((m) => m[1]!),
    );
    expect(used.size).toBeGreaterThanOrEqual(3);
    for (const name of used) expect(exported, name).toContain(name);
  });
});

/** `KEY: value` lines of a ConfigMap's data (comments and commented-out keys left out). */
function configMapData(text: string): Record<string, string> {
  const data = text.slice(text.indexOf('\ndata:'));
  return Object.fromEntries(
    [...data.matchAll(/^ {2}([A-Z][A-Z0-9_]*): "?([^"#\n]*?)"?\s*(?:#.*)?$/gm)].map((m) => [m[1]!, m[2]!]),
  );
}

describe('deploy TLS and network policy', () => {
  it('connects to Postgres with sslmode=verify-full and a CA the pods mount', () => {
    const secret = read('deploy/k8s/secret.example.yaml');
    const urls = [...secret.matchAll(/^ {2}(\w+_DATABASE_URL): (\S+)$/gm)].map((m) => ({ key: m[1]!, url: m[2]! }));
    expect(urls.map((u) => u.key)).toEqual(['WAREHOUSE_DATABASE_URL', 'OLTP_DATABASE_URL']);
    for (const { key, url } of urls) {
      const params = new URL(url).searchParams;
      expect(params.get('sslmode'), key).toBe('verify-full');
      // sslrootcert names a key of the same Secret, at the path the Deployments mount it.
      const ca = params.get('sslrootcert')!;
      expect(ca, key).toMatch(/^\/run\/secrets\/learnsync\/[A-Z_]+$/);
      expect(secret).toMatch(new RegExp(`^ {2}${path.basename(ca)}: \\|`, 'm'));
      for (const f of ['deploy/k8s/worker-deployment.yaml', 'deploy/k8s/serve.yaml'])
        expect(read(f), f).toMatch(/mountPath: \/run\/secrets\/learnsync\b/);
    }
  });

  it('connects to Temporal over TLS, as the configuration reads it', () => {
    const data = configMapData(read('deploy/k8s/configmap.yaml'));
    expect(data.TEMPORAL_TLS).toBe('true');
    expect(loadConfig(data).temporal.tls).toBe(true);
  });

  it('serves people over HTTPS through an Ingress with TLS for a host serve allows', () => {
    const ingress = read('deploy/k8s/ingress.yaml');
    expect(read('deploy/k8s/kustomization.yaml')).toMatch(/^ {2}- ingress\.yaml$/m);
    const tlsHosts = /tls:\n\s+- hosts: \[([^\]]+)\]/
      .exec(ingress)?.[1]
      ?.split(',')
      .map((h) => h.trim());
    expect(tlsHosts?.length).toBeGreaterThan(0);
    expect(ingress).toMatch(/secretName: \S+/);
    const ruleHost = /- host: (\S+)/.exec(ingress)?.[1];
    expect(tlsHosts).toContain(ruleHost);
    expect(ingress).toMatch(/force-ssl-redirect: "true"/);
    expect(ingress).toMatch(/service: \{ name: learnsync-serve, port: \{ name: http \} \}/);
    const allowed = /SERVE_ALLOWED_HOSTS, value: "([^"]+)"/.exec(read('deploy/k8s/serve.yaml'))![1]!.split(',');
    expect(allowed).toContain(ruleHost);
  });

  it('admits to serve and the worker metrics only named sources, never any pod', () => {
    const docs = read('deploy/k8s/networkpolicy-serve.yaml').split(/^---$/m);
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      const rules = doc
        .slice(doc.indexOf('\n  ingress:'))
        .split(/\n {4}- /)
        .slice(1);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        // A rule without `from` admits every source in and out of the cluster.
        expect(rule.startsWith('from:'), rule).toBe(true);
        const sources = rule
          .slice(0, rule.indexOf('\n      ports:'))
          .split(/\n {8}- /)
          .slice(1);
        expect(sources.length).toBeGreaterThan(0);
        for (const s of sources) {
          expect(s).toMatch(/namespaceSelector: \{ matchLabels: \{ kubernetes\.io\/metadata\.name: [a-z0-9-]+ \} \}/);
          expect(s).toMatch(/podSelector: \{ matchLabels: \{ [\w./-]+: [\w.-]+ \} \}/);
        }
      }
    }
    expect(docs[0]).toMatch(/metadata\.name: ingress-nginx/);
    expect(docs[0]).toMatch(/metadata\.name: monitoring/);
  });
});
