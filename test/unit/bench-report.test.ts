// bench:report builds the README's figures only from what benches recorded: the latest line per
// bench, its targets as printed, when and on what machine — and refuses a README without markers.
import { expect, it } from 'vitest';
import {
  END,
  existingRows,
  parseResults,
  renderTable,
  replaceBetweenMarkers,
  START,
} from '../../bench/report-table.js';

const machine = { cores: 2, memoryGiB: 24, node: 'v20.20.2', load1: 1.25 };
const lines = [
  {
    bench: 'identity',
    at: '2026-12-05T01:00:00.000Z',
    machine,
    targets: [{ name: 'resolution seconds', value: 16.7, op: '<=', target: 10, met: false }],
    met: false,
  },
  {
    bench: 'identity',
    at: '2026-12-05T02:00:00.000Z',
    machine: { ...machine, load1: 0.5 },
    targets: [{ name: 'resolution seconds', value: 9.4, op: '<=', target: 10, met: true }],
    met: true,
  },
  {
    bench: 'chaos',
    at: '2026-12-05T01:30:00.000Z',
    machine,
    medians: { extraMsPerWorkerKillNet: 10367.5 },
    targets: { checksumsEqual: true, exactlyOneSuccess: true },
  },
];
const text = ['starting…', ...lines.map((l) => JSON.stringify(l)), '{"truncated":', '  a log line'].join('\n');

it('keeps only the JSON lines of benches, skipping logs and a truncated line', () => {
  expect(parseResults(text).map((l) => l.bench)).toEqual(['identity', 'identity', 'chaos']);
});

it('renders the latest line per bench with its machine, load and targets as printed', () => {
  const table = renderTable(parseResults(text));
  const rows = table.split('\n');
  expect(rows).toHaveLength(4); // header, separator, chaos, identity
  expect(rows[2]).toContain('`bench:chaos`');
  expect(rows[2]).toContain('medians extraMsPerWorkerKillNet 10367.5');
  expect(rows[2]).toMatch(/\| yes \|$/);
  expect(rows[3]).toContain('2026-12-05 02:00 UTC');
  expect(rows[3]).toContain('2 cores, Node v20.20.2, load 0.5');
  expect(rows[3]).toContain('resolution seconds: 9.4 (target <= 10)');
  expect(rows[3]).not.toContain('16.7');
  expect(rows[3]).toMatch(/\| yes \|$/);
});

it('marks unmet targets and replaces only the text between the markers', () => {
  const table = renderTable(parseResults(JSON.stringify(lines[0])));
  expect(table).toContain('**no** (1 of 1 not met)');
  const readme = `# x\n${START}\nold figures\n${END}\nrest`;
  expect(replaceBetweenMarkers(readme, table)).toBe(`# x\n${START}\n${table}\n${END}\nrest`);
  expect(() => replaceBetweenMarkers('# no markers', table)).toThrow(/bench-report:start/);
});

it('keeps the row of a bench with no line recorded here, and replaces the rows of those that have one', () => {
  const old = renderTable(parseResults(text));
  const readme = `# x\n${START}\n${old.replace('chaos', 'peer')}\n${END}\n`;
  const kept = existingRows(readme);
  expect([...kept.keys()].sort()).toEqual(['identity', 'peer']);
  const table = renderTable(parseResults(JSON.stringify(lines[lines.length - 1])), kept);
  const rows = table.split('\n').slice(2);
  expect(rows.map((r) => /`bench:([a-z]+)`/.exec(r)![1])).toEqual(['chaos', 'identity', 'peer']);
  expect(rows[1]).toBe(kept.get('identity')); // no identity line recorded: the old row stays
});
