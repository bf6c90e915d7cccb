// deploy/'s alert rules: the plain Prometheus rules file and the PrometheusRule carry the same
// alerts with the same expressions, and every learnsync series they use is one learnsync exports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/runtime/metrics.js';

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
