// Window planning: the ranges a run extracts, grid-aligned windows, and splitting on truncation.
import { describe, expect, it } from 'vitest';
import { planWindows, splitWindow, timeRangeFor } from '../../../src/connectors/kusto/windows.js';

const NOW = Date.parse('2026-11-23T13:45:00Z');
const base = { now: NOW, lookbackDays: 3, historyStart: '2021-07-01' };

describe('timeRangeFor', () => {
  it('reads the whole history the first time, up to the current hour for yesterday', () => {
    expect(timeRangeFor({ ...base, targetDate: '2026-11-22' })).toEqual({
      from: '2021-07-01T00:00:00.000Z',
      to: '2026-11-23T13:00:00.000Z',
    });
  });

  it('re-reads only the lookback days once loaded', () => {
    expect(timeRangeFor({ ...base, targetDate: '2026-11-22', watermark: '2026-11-23T07:00:00.000Z' })).toEqual({
      from: '2026-11-20T00:00:00.000Z',
      to: '2026-11-23T13:00:00.000Z',
    });
  });

  it('reaches back to the watermark after missed runs, so no gap is left', () => {
    expect(timeRangeFor({ ...base, targetDate: '2026-11-22', watermark: '2026-11-10T00:00:00.000Z' })!.from).toBe(
      '2026-11-10T00:00:00.000Z',
    );
  });

  it('keeps a backfill of an old date inside that date and its lookback', () => {
    expect(timeRangeFor({ ...base, targetDate: '2024-02-29', watermark: '2026-11-23T07:00:00.000Z' })).toEqual({
      from: '2024-02-27T00:00:00.000Z',
      to: '2024-03-01T00:00:00.000Z',
    });
  });

  it('has nothing to read before the history starts', () => {
    expect(timeRangeFor({ ...base, targetDate: '2020-01-01', watermark: '2026-11-23T07:00:00.000Z' })).toBeUndefined();
  });
});

describe('planWindows', () => {
  it('cuts a range on a grid anchored at the history start', () => {
    const w = planWindows({
      kind: 'time',
      from: '2021-07-05T00:00:00.000Z',
      to: '2021-08-20T00:00:00.000Z',
      stepDays: 14,
      anchor: '2021-07-01T00:00:00.000Z',
    });
    expect(w.map((x) => [x.start, x.end])).toEqual([
      ['2021-07-05T00:00:00.000Z', '2021-07-15T00:00:00.000Z'],
      ['2021-07-15T00:00:00.000Z', '2021-07-29T00:00:00.000Z'],
      ['2021-07-29T00:00:00.000Z', '2021-08-12T00:00:00.000Z'],
      ['2021-08-12T00:00:00.000Z', '2021-08-20T00:00:00.000Z'],
    ]);
    expect(new Set(w.map((x) => x.key)).size).toBe(4);
  });

  it('lists hash partitions', () => {
    expect(planWindows({ kind: 'hash', partitions: 3 }).map((w) => w.key)).toEqual(['p0of3', 'p1of3', 'p2of3']);
  });
});

describe('splitWindow', () => {
  it('halves a time window on a whole second and refuses below a minute', () => {
    const [a, b] = splitWindow({ key: 'k', start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T00:03:01.000Z' }) ?? [];
    expect([a?.start, a?.end, b?.start, b?.end]).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-01T00:01:30.000Z',
      '2024-01-01T00:01:30.000Z',
      '2024-01-01T00:03:01.000Z',
    ]);
    const tiny = { key: 'k', start: '2024-01-01T00:00:00.000Z', end: '2024-01-01T00:01:00.000Z' };
    expect(splitWindow(tiny)).toBeUndefined();
  });

  it('splits hash partition i of n into i and i+n of 2n', () => {
    expect(splitWindow({ key: 'p1of4', partition: 1, partitions: 4 })!.map((w) => w.key)).toEqual(['p1of8', 'p5of8']);
  });
});
