import { describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { addDays, dateRange, dayBefore, isValidDate } from '../../src/pipelines/dates.js';
import { listPipelines } from '../../src/pipelines/registry.js';
import { SCHEDULES } from '../../src/pipelines/schedules.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { planDag } from '../../src/workflows/plan.js';

const def = (nodes: PipelineDefinition['nodes']): PipelineDefinition => ({
  name: 't',
  kind: 'nightly',
  description: '',
  nodes,
});

describe('planDag', () => {
  it('orders a diamond into layers', () => {
    expect(
      planDag(
        def([
          { id: 'd', activity: 'x', dependsOn: ['b', 'c'] },
          { id: 'b', activity: 'x', dependsOn: ['a'] },
          { id: 'a', activity: 'x' },
          { id: 'c', activity: 'x', dependsOn: ['a'] },
        ]),
      ),
    ).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('rejects cycles, naming the nodes in them', () => {
    expect(() =>
      planDag(
        def([
          { id: 'a', activity: 'x' },
          { id: 'b', activity: 'x', dependsOn: ['a', 'c'] },
          { id: 'c', activity: 'x', dependsOn: ['b'] },
        ]),
      ),
    ).toThrow(/dependency cycle among b, c/);
  });

  it('rejects unknown dependencies, self-dependencies, duplicate ids and empty pipelines', () => {
    expect(() => planDag(def([{ id: 'a', activity: 'x', dependsOn: ['zz'] }]))).toThrow(/unknown node "zz"/);
    expect(() => planDag(def([{ id: 'a', activity: 'x', dependsOn: ['a'] }]))).toThrow(/depends on itself/);
    expect(() =>
      planDag(
        def([
          { id: 'a', activity: 'x' },
          { id: 'a', activity: 'y' },
        ]),
      ),
    ).toThrow(/duplicate node id "a"/);
    expect(() => planDag(def([]))).toThrow(/no nodes/);
  });
});

describe('registered pipelines and schedules', () => {
  // Factories only capture their dependencies; nothing connects while the names are read.
  const activityNames = new Set(
    Object.keys(createActivities({ config: loadConfig({}), outputDir: '/nonexistent' } as unknown as ActivityDeps)),
  );

  it.each(listPipelines().map((p) => [p.name, p] as const))(
    '%s is a valid DAG whose activities all exist',
    (_name, p) => {
      expect(planDag(p).flat().sort()).toEqual(p.nodes.map((n) => n.id).sort());
      for (const n of p.nodes) expect(activityNames, `${p.name}.${n.id} → ${n.activity}`).toContain(n.activity);
    },
  );

  it('has unique pipeline names and schedules that name registered pipelines', () => {
    const names = listPipelines().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const s of SCHEDULES) expect(names).toContain(s.pipeline);
    expect(new Set(SCHEDULES.map((s) => s.id)).size).toBe(SCHEDULES.length);
  });
});

describe('dates', () => {
  it('validates calendar dates', () => {
    expect(isValidDate('2024-02-29')).toBe(true);
    expect(isValidDate('2025-02-29')).toBe(false);
    expect(isValidDate('2025-13-01')).toBe(false);
    expect(isValidDate('2025-1-01')).toBe(false);
  });
  it('walks ranges across month and year ends', () => {
    expect(dateRange('2025-12-30', '2026-01-02')).toEqual(['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-02']);
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(dayBefore(Date.parse('2026-01-01T00:30:00Z'))).toBe('2025-12-31');
  });
});
