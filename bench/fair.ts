// Why: a benchmark that compares two things can flatter one of them without anyone noticing (the
// first side always runs cold, one side opens connections inside its timing, the ratio comes from
// different runs). Every bench in bench/ goes through these helpers so the rules hold in one place:
// both sides get the same set-up, the order alternates every round, a warm-up round is discarded,
// at least five rounds are measured, each side reports its median and spread, ratios come from the
// medians of the same run, and the bench ends with exactly one JSON line.
import { recordResult } from './results.js';

export interface Side {
  name: string;
  /** Runs once per round, untimed, before `run` (e.g. truncate the target, open connections). */
  setup?: () => Promise<void>;
  /**
   * The timed work; returns the units of work done (rows), which must agree between sides. A side
   * whose work runs in another process may time itself there and return { units, ms } instead.
   */
  run: () => Promise<number | { units: number; ms: number }>;
  /** Runs once per round, untimed, after `run`. */
  teardown?: () => Promise<void>;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

export interface SideResult {
  name: string;
  /** Milliseconds of each measured round, in round order. */
  ms: number[];
  msStats: Spread;
  units: number;
  /** Units per second at each round's time; median taken over rounds. */
  perSecond: Spread;
}

export interface Comparison {
  rounds: number;
  warmup: number;
  sides: Record<string, SideResult>;
}

export const MIN_ROUNDS = 5;

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, min, max and quartiles (linear interpolation) of a sample. */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error('spread of an empty sample');
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0]!, max: s.at(-1)!, q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
}

/** The p-th percentile (0–100) of a sample. */
export function percentile(xs: readonly number[], p: number): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    p / 100,
  );
}

/** The order of the sides in a round: rotated by one each round, so every side goes first as often. */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  const k = round % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

/**
 * Runs every side once per round, `warmup` rounds discarded then `rounds` measured, rotating the
 * order each round. Every side must report the same units in every round (same work both sides).
 */
export async function compare(
  sides: readonly Side[],
  opts: { rounds?: number; warmup?: number; log?: (line: string) => void } = {},
): Promise<Comparison> {
  const rounds = opts.rounds ?? MIN_ROUNDS;
  const warmup = opts.warmup ?? 1;
  if (rounds < MIN_ROUNDS)
    throw new Error(`a fair comparison needs at least ${MIN_ROUNDS} measured rounds, got ${rounds}`);
  const log = opts.log ?? ((l: string) => console.log(l));
  const ms = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  let units: number | undefined;
  for (let round = 0; round < warmup + rounds; round++) {
    const measured = round >= warmup;
    const parts: string[] = [];
    for (const side of roundOrder(sides, round)) {
      await side.setup?.();
      const t = performance.now();
      const out = await side.run();
      const n = typeof out === 'number' ? out : out.units;
      const elapsed = typeof out === 'number' ? performance.now() - t : out.ms;
      await side.teardown?.();
      if (units === undefined) units = n;
      else if (n !== units)
        throw new Error(`${side.name} did ${n} units of work, another side ${units}: not the same work`);
      if (measured) ms.get(side.name)!.push(elapsed);
      parts.push(`${side.name} ${(elapsed / 1000).toFixed(3)} s`);
    }
    log(`  ${measured ? `round ${round - warmup + 1}/${rounds}` : 'warm-up (discarded)'}: ${parts.join(', ')}`);
  }
  const result: Comparison = { rounds, warmup, sides: {} };
  for (const side of sides) {
    const xs = ms.get(side.name)!;
    result.sides[side.name] = {
      name: side.name,
      ms: xs.map((x) => round3(x)),
      msStats: roundSpread(spread(xs)),
      units: units ?? 0,
      perSecond: roundSpread(spread(xs.map((x) => ((units ?? 0) * 1000) / x))),
    };
  }
  return result;
}

/** Throughput ratio a/b from the medians of one run (> 1: a is faster). */
export function speedRatio(c: Comparison, a: string, b: string): number {
  return round3(c.sides[b]!.msStats.median / c.sides[a]!.msStats.median);
}

export interface Target {
  /** What is compared, e.g. "move ratio vs binary COPY pipe". */
  name: string;
  value: number;
  op: '>=' | '<=';
  target: number;
}

export const met = (t: Target) => (t.op === '>=' ? t.value >= t.target : t.value <= t.target);

/**
 * Prints the targets readably, then the bench's one JSON line (figures, targets, met, and the
 * machine with its load average at the end of the run), and records it (bench/results.ts).
 */
export function finish(bench: string, figures: Record<string, unknown>, targets: Target[]): void {
  for (const t of targets)
    console.log(`target ${t.name}: ${t.value} ${t.op} ${t.target} → ${met(t) ? 'met' : 'NOT met'}`);
  const line = { bench, ...figures, targets: targets.map((t) => ({ ...t, met: met(t) })), met: targets.every(met) };
  console.log(JSON.stringify(line));
  recordResult(line);
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;
const roundSpread = (s: Spread): Spread => ({
  median: round3(s.median),
  min: round3(s.min),
  max: round3(s.max),
  q1: round3(s.q1),
  q3: round3(s.q3),
});
