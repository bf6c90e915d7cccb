// The README's table of bench figures, built only from the benches' recorded JSON lines
// (bench/results.ts): the latest line of each bench, its targets as printed, when and where it ran.
export interface RecordedTarget {
  name: string;
  value: number;
  op: '>=' | '<=';
  target: number;
  met: boolean;
}

export interface RecordedLine {
  bench: string;
  at?: string;
  machine?: { cores: number; memoryGiB?: number; node: string; load1: number };
  targets?: RecordedTarget[] | Record<string, boolean>;
  met?: boolean;
  medians?: Record<string, number>;
}

/** The JSON lines of a results file; lines that are not a bench's JSON object are skipped. */
export function parseResults(text: string): RecordedLine[] {
  const out: RecordedLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as RecordedLine;
      if (typeof v.bench === 'string') out.push(v);
    } catch {
      // a truncated line (a bench killed while writing) is not a figure
    }
  }
  return out;
}

/** The latest line per bench, in bench-name order. */
export function latestPerBench(lines: RecordedLine[]): RecordedLine[] {
  const latest = new Map<string, RecordedLine>();
  for (const l of lines) {
    const prev = latest.get(l.bench);
    if (!prev || (l.at ?? '') >= (prev.at ?? '')) latest.set(l.bench, l);
  }
  return [...latest.values()].sort((a, b) => a.bench.localeCompare(b.bench));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function targetsText(l: RecordedLine): { figures: string; met: string } {
  const t = l.targets;
  if (Array.isArray(t)) {
    if (!t.length) return { figures: '(no targets)', met: '—' };
    return {
      figures: t.map((x) => `${x.name}: ${x.value} (target ${x.op} ${x.target})`).join('; '),
      met: t.every((x) => x.met) ? 'yes' : `**no** (${t.filter((x) => !x.met).length} of ${t.length} not met)`,
    };
  }
  if (t && typeof t === 'object') {
    const entries = Object.entries(t);
    const medians = l.medians
      ? `medians ${Object.entries(l.medians)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; `
      : '';
    return {
      figures: medians + entries.map(([k, v]) => `${k}: ${v ? 'yes' : 'no'}`).join(', '),
      met: entries.every(([, v]) => v) ? 'yes' : '**no**',
    };
  }
  return { figures: '(no targets recorded)', met: '—' };
}

/**
 * The rows of the table now between the markers, by bench: a bench with no line recorded on this
 * machine (a fresh clone records none) keeps the row an earlier run printed.
 */
export function existingRows(readme: string): Map<string, string> {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  const rows = new Map<string, string>();
  if (a < 0 || b < a) return rows;
  for (const line of readme.slice(a, b).split('\n')) {
    const m = /^\| `bench:([a-z0-9-]+)` \|/.exec(line);
    if (m) rows.set(m[1]!, line);
  }
  return rows;
}

/** Markdown: one row per bench with when, machine, load, figures against targets, and whether met. */
export function renderTable(lines: RecordedLine[], kept: ReadonlyMap<string, string> = new Map()): string {
  const recorded = new Map(latestPerBench(lines).map((l) => [l.bench, l]));
  const names = [...new Set([...recorded.keys(), ...kept.keys()])].sort((x, y) => x.localeCompare(y));
  const rows = names.map((name) => {
    const l = recorded.get(name);
    if (!l) return kept.get(name)!;
    const m = l.machine;
    const where = m ? `${m.cores} cores, Node ${m.node}, load ${m.load1}` : 'unknown';
    const { figures, met } = targetsText(l);
    const ran = cell(l.at?.slice(0, 16).replace('T', ' ') ?? '?');
    return `| \`bench:${l.bench}\` | ${ran} UTC | ${cell(where)} | ${cell(figures)} | ${met} |`;
  });
  return [
    '| bench | ran | machine | figures (as the bench printed them) | met |',
    '| --- | --- | --- | --- | --- |',
    ...(rows.length ? rows : ['| (no bench has recorded a result yet) | | | | |']),
  ].join('\n');
}

export const START = '<!-- bench-report:start -->';
export const END = '<!-- bench-report:end -->';

/** `readme` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function replaceBetweenMarkers(readme: string, table: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} block to regenerate`);
  return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(b)}`;
}
