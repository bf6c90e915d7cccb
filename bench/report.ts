// Why: figures copied into the README by hand drift from what the benches printed (issue 19). Every
// bench appends its one JSON line to .data/bench/results.jsonl (bench/fair.ts finish); this report
// regenerates the README's performance table between its markers from the latest line of each
// bench: when, on what machine (cores, Node.js, load average at the end of the run), each target's
// measured value and whether it was met. Nothing in the table is typed by hand.
//   npm run bench:report              rewrite README.md's table
//   npm run bench:report -- --print   print the table only
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_FILE } from './fair.js';

export const START_MARKER = '<!-- bench-report:start -->';
export const END_MARKER = '<!-- bench-report:end -->';

export interface BenchLine {
  bench: string;
  date?: string;
  rounds?: number;
  machine?: { cores?: number; node?: string; loadAverage?: number[] };
  targets?: Array<{ name: string; value: number; op: string; target: number; met: boolean }>;
  met?: boolean;
}

/** The JSON lines of a results file, skipping blank lines; a line that is not a bench's JSON is an error. */
export function parseResults(text: string): BenchLine[] {
  return text
    .split('\n')
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l !== '')
    .map(([l, n]) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new Error(`results line ${n} is not JSON: ${l.slice(0, 80)}`);
      }
      if (typeof v !== 'object' || v === null || typeof (v as BenchLine).bench !== 'string')
        throw new Error(`results line ${n} has no "bench" name`);
      return v as BenchLine;
    });
}

/** The latest line of each bench (file order: later lines are newer), benches in name order. */
export function latestPerBench(lines: readonly BenchLine[]): BenchLine[] {
  const latest = new Map<string, BenchLine>();
  for (const l of lines) latest.set(l.bench, l);
  return [...latest.values()].sort((a, b) => a.bench.localeCompare(b.bench));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : String(x));

/** One markdown row per bench: date, machine, load, every target's value, met. */
export function renderTable(lines: readonly BenchLine[]): string {
  const rows = latestPerBench(lines).map((l) => {
    const m = l.machine;
    const machine = m ? `${m.cores ?? '?'} cores, Node ${m.node ?? '?'}` : 'not recorded';
    const load = m?.loadAverage?.length ? m.loadAverage.map((x) => x.toFixed(2)).join(' / ') : 'not recorded';
    const when = l.date ? l.date.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC') : 'not recorded';
    const figures = (l.targets ?? []).length
      ? l
          .targets!.map(
            (t) => `${t.name}: **${num(t.value)}** (target ${t.op} ${num(t.target)}, ${t.met ? 'met' : 'not met'})`,
          )
          .join('; ')
      : 'no targets';
    const met = l.targets?.length ? (l.met ? 'yes' : '**no**') : '—';
    const cells = [`\`bench:${l.bench}\``, when, machine, load, figures].map(cell);
    return `| ${cells.join(' | ')} | ${met} |`;
  });
  return [
    "| bench | run (UTC) | machine | load average (1 / 5 / 15 min) | figures (from the bench's JSON line) | all met |",
    '| --- | --- | --- | --- | --- | --- |',
    ...(rows.length ? rows : ['| — | no results yet: run a bench | | | | |']),
  ].join('\n');
}

/** `readme` with everything between the markers replaced by `table`; the markers must exist once each. */
export function replaceBetweenMarkers(readme: string, table: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start || readme.indexOf(START_MARKER, start + 1) >= 0)
    throw new Error(`README needs exactly one ${START_MARKER} … ${END_MARKER} pair, in that order`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${table}\n${readme.slice(end)}`;
}

function main(): void {
  const root = path.resolve(import.meta.dirname, '..');
  const file = process.env.BENCH_RESULTS_FILE ?? RESULTS_FILE;
  const lines = existsSync(file) ? parseResults(readFileSync(file, 'utf8')) : [];
  const table = renderTable(lines);
  if (process.argv.includes('--print')) {
    console.log(table);
    return;
  }
  const readmePath = path.join(root, 'README.md');
  writeFileSync(readmePath, replaceBetweenMarkers(readFileSync(readmePath, 'utf8'), table));
  console.log(
    `README.md: performance table from ${lines.length} result lines (${latestPerBench(lines).length} benches)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
