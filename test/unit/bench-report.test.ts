// bench:report turns the benches' JSON lines into the README's table: the latest line per bench,
// every target's value as printed, machine and load, and only the text between the markers changes.
import { describe, expect, it } from 'vitest';
import {
  END_MARKER,
  latestPerBench,
  parseResults,
  renderTable,
  replaceBetweenMarkers,
  START_MARKER,
} from '../../bench/report.js';

const line = (bench: string, date: string, value: number, load: number[]) =>
  JSON.stringify({
    bench,
    date,
    machine: { cores: 2, node: 'v24.1.0', loadAverage: load },
    targets: [{ name: `${bench} median seconds`, value, op: '<=', target: 10, met: value <= 10 }],
    met: value <= 10,
  });

const results = [
  line('identity', '2026-12-05T01:00:00.000Z', 14.2, [3.1, 2.5, 2]),
  '',
  line('orchestration', '2026-12-05T01:10:00.000Z', 38.5, [1.2, 1.1, 1]),
  line('identity', '2026-12-05T01:20:00.000Z', 9.75, [2.25, 2, 1.5]),
].join('\n');

describe('bench:report', () => {
  it('keeps the latest line of each bench, in name order', () => {
    const latest = latestPerBench(parseResults(results));
    expect(latest.map((l) => [l.bench, l.date])).toEqual([
      ['identity', '2026-12-05T01:20:00.000Z'],
      ['orchestration', '2026-12-05T01:10:00.000Z'],
    ]);
  });

  it('renders each figure as the bench printed it, with date, machine and load average', () => {
    const table = renderTable(parseResults(results)).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toBe(
      '| `bench:identity` | 2026-12-05 01:20 UTC | 2 cores, Node v24.1.0 | 2.25 / 2.00 / 1.50 | ' +
        'identity median seconds: **9.75** (target <= 10, met) | yes |',
    );
    expect(table[3]).toContain('orchestration median seconds: **38.5** (target <= 10, not met)');
    expect(table[3]).toMatch(/\| \*\*no\*\* \|$/);
    expect(table.join('\n')).not.toContain('14.2'); // superseded by the later identity run
  });

  it('says so when there are no results, and rejects a line that is not a bench result', () => {
    expect(renderTable([])).toContain('no results yet');
    expect(() => parseResults('{"bench":"x"}\nnot json')).toThrow(/line 2 is not JSON/);
    expect(() => parseResults('{"figures":1}')).toThrow(/line 1 has no "bench"/);
  });

  it('replaces only the text between the markers', () => {
    const readme = `intro\n${START_MARKER}\nold table\n${END_MARKER}\noutro\n`;
    expect(replaceBetweenMarkers(readme, 'NEW')).toBe(`intro\n${START_MARKER}\nNEW\n${END_MARKER}\noutro\n`);
    expect(() => replaceBetweenMarkers('no markers', 'NEW')).toThrow(/exactly one/);
    expect(() => replaceBetweenMarkers(`${START_MARKER}${START_MARKER}${END_MARKER}`, 'x')).toThrow(/exactly one/);
  });
});
