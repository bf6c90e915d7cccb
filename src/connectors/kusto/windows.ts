// How a large Kusto read is cut into queries small enough to stay under the service's result
// limits (500,000 records / 64 MB by default): time windows for event tables, hash partitions for
// snapshot tables. Pure functions, so the same plan always yields the same windows — which is what
// lets a retried activity skip the windows it already committed.
const DAY_MS = 86_400_000;
const MIN_SPLIT_MS = 60_000;
const MAX_PARTITIONS = 4096;

export type WindowPlan =
  /** [from, to) in windows of stepDays, aligned on a grid that starts at `anchor`. */
  | { kind: 'time'; from: string; to: string; stepDays: number; anchor: string }
  /** Every row once, in `partitions` buckets of hash(key). */
  | { kind: 'hash'; partitions: number };

export interface ExtractWindow {
  key: string;
  start?: string;
  end?: string;
  partition?: number;
  partitions?: number;
}

export function timeWindow(startMs: number, endMs: number): ExtractWindow {
  const start = new Date(startMs).toISOString();
  const end = new Date(endMs).toISOString();
  return { key: `${start}/${end}`, start, end };
}

export function hashWindow(partition: number, partitions: number): ExtractWindow {
  return { key: `p${partition}of${partitions}`, partition, partitions };
}

export function planWindows(plan: WindowPlan): ExtractWindow[] {
  if (plan.kind === 'hash') return Array.from({ length: plan.partitions }, (_, i) => hashWindow(i, plan.partitions));
  const from = Date.parse(plan.from);
  const to = Date.parse(plan.to);
  const step = plan.stepDays * DAY_MS;
  const anchor = Date.parse(plan.anchor);
  const out: ExtractWindow[] = [];
  // Grid-aligned boundaries keep windows identical from one run to the next.
  let start = from;
  while (start < to) {
    const k = Math.floor((start - anchor) / step) + 1;
    const end = Math.min(to, anchor + k * step);
    out.push(timeWindow(start, end));
    start = end;
  }
  return out;
}

/** Two halves of a window that returned too much, or undefined when it cannot be cut further. */
export function splitWindow(w: ExtractWindow): [ExtractWindow, ExtractWindow] | undefined {
  if (w.partitions !== undefined && w.partition !== undefined) {
    // hash % 2n is i or i+n exactly when hash % n is i.
    if (w.partitions * 2 > MAX_PARTITIONS) return undefined;
    return [hashWindow(w.partition, w.partitions * 2), hashWindow(w.partition + w.partitions, w.partitions * 2)];
  }
  const start = Date.parse(w.start!);
  const end = Date.parse(w.end!);
  if (end - start <= MIN_SPLIT_MS) return undefined;
  const mid = start + Math.floor((end - start) / 2 / 1000) * 1000;
  return [timeWindow(start, mid), timeWindow(mid, end)];
}

export interface TimeRangeInput {
  /** The run's target date, YYYY-MM-DD. */
  targetDate: string;
  now: number;
  /** End of the last window ever committed for the source (ISO), if any. */
  watermark?: string;
  lookbackDays: number;
  historyStart: string;
}

/**
 * The range a run of target date D extracts:
 * - never loaded → everything from historyStart;
 * - otherwise the lookback days ending with D (late rows), extended back to the watermark when
 *   earlier runs were missed, so no gap is ever left;
 * - up to the end of D, or up to now (to the hour) when D is yesterday or today, so that a
 *   6-hourly schedule keeps the current day fresh. A backfill of an old date stays inside its day.
 */
export function timeRangeFor(i: TimeRangeInput): { from: string; to: string } | undefined {
  const dayStart = Date.parse(`${i.targetDate}T00:00:00Z`);
  const history = Date.parse(`${i.historyStart}T00:00:00Z`);
  const todayStart = Math.floor(i.now / DAY_MS) * DAY_MS;
  const endOfTarget = dayStart + DAY_MS;
  const to = endOfTarget >= todayStart ? Math.max(endOfTarget, Math.floor(i.now / 3_600_000) * 3_600_000) : endOfTarget;
  let from: number;
  if (!i.watermark) from = history;
  else {
    const lookbackStart = endOfTarget - i.lookbackDays * DAY_MS;
    const mark = Math.floor(Date.parse(i.watermark) / DAY_MS) * DAY_MS;
    from = Math.min(lookbackStart, mark);
  }
  from = Math.max(from, history);
  if (from >= to) return undefined;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
