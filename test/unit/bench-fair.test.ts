// The fair-benchmark rules of bench/fair.ts hold: every side goes first equally often, the warm-up
// round is not measured, fewer than five rounds or unequal work are refused, and ratios and
// targets come from the medians.
import { describe, expect, it } from 'vitest';
import { compare, met, percentile, roundOrder, speedRatio, spread } from '../../bench/fair.js';

describe('bench/fair.ts', () => {
  it('rotates the order every round, discards the warm-up and measures every round after it', async () => {
    const calls: string[] = [];
    const side = (name: string, ms: number) => ({
      name,
      run: async () => {
        calls.push(name);
        return { units: 1000, ms };
      },
    });
    const c = await compare([side('a', 100), side('b', 200)], { rounds: 6, log: () => {} });
    expect(calls).toEqual(['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a', 'a', 'b']);
    expect(c.sides.a!.ms).toHaveLength(6);
    expect(c.sides.a!.msStats.median).toBe(100);
    expect(c.sides.b!.perSecond.median).toBe(5000);
    expect(speedRatio(c, 'a', 'b')).toBe(2);
    expect(roundOrder(['x', 'y', 'z'], 1)).toEqual(['y', 'z', 'x']);
  });

  it('refuses fewer than five rounds and sides that do different work', async () => {
    const side = (name: string, units: number) => ({ name, run: async () => units });
    await expect(compare([side('a', 1)], { rounds: 4, log: () => {} })).rejects.toThrow(/at least 5/);
    await expect(compare([side('a', 1), side('b', 2)], { log: () => {} })).rejects.toThrow(/not the same work/);
  });

  it('reports median, quartiles and percentiles, and judges targets', () => {
    expect(spread([5, 1, 4, 2, 3])).toEqual({ median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(met({ name: 'x', value: 0.95, op: '>=', target: 0.9 })).toBe(true);
    expect(met({ name: 'x', value: 60, op: '<=', target: 50 })).toBe(false);
  });
});
