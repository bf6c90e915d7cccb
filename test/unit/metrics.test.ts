// learnsync's Prometheus series stay bounded: API calls are counted per endpoint template (ids and
// dates folded), and no label takes more than 500 values however many distinct inputs arrive.
import { describe, expect, it } from 'vitest';
import { ApiHitRecorder } from '../../src/runtime/ledger/api-hits.js';
import { bounded, endpointTemplate, metricsRegistry } from '../../src/runtime/metrics.js';

describe('metrics', () => {
  it('counts API calls per endpoint template and outcome', async () => {
    const rec = new ApiHitRecorder('school-api');
    rec.record({ endpoint: '/v2/users/12345/projects_users', status: 200 } as never);
    rec.record({ endpoint: '/v2/users/678/projects_users', status: 429, throttled: true } as never);
    rec.record({ endpoint: '/v2/cursus', status: 304, notModified: true } as never);
    const text = await metricsRegistry.metrics();
    const line = (endpoint: string, outcome: string) =>
      new RegExp(
        `^learnsync_api_calls_total\\{source="school-api",endpoint="${endpoint}",outcome="${outcome}"\\} 1$`,
        'm',
      );
    expect(text).toMatch(line('/v2/users/:n/projects_users', 'ok'));
    expect(text).toMatch(line('/v2/users/:n/projects_users', 'throttled'));
    expect(text).toMatch(line('/v2/cursus', 'cache_hit'));
    // Only the API-call series: process metrics' values may contain any digits.
    const apiLines = text.split('\n').filter((l) => l.startsWith('learnsync_api_calls_total{'));
    expect(apiLines.join('\n')).not.toMatch(/12345|678/);
  });

  it("names the process's default series once: learnsync_process_…, never learnsync_process_process_…", async () => {
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/^learnsync_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^learnsync_nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toMatch(/process_process_|process_nodejs_/);
  });

  it('caps every label at 500 distinct values', () => {
    expect(endpointTemplate('/repos/skills/intro/forks?page=3')).toBe('/repos/skills/intro/forks');
    const seen = new Set(Array.from({ length: 2000 }, (_, i) => bounded('test-label', `value-${i}`)));
    expect(seen.size).toBe(501); // 500 values and "other"
    expect(seen.has('other')).toBe(true);
  });
});
