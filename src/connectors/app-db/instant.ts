// Cursor columns (updated_at) hold instants in whatever form the application wrote them: ISO text
// with T and Z, space-separated text, offsets, epoch seconds or epoch milliseconds as integers.
// Compared as text they order wrongly ('…T…' sorts after every '… …' of the same day, integers
// before all text), so the sync compares instants: this one function turns a value into epoch
// milliseconds, in JS and — registered as an SQL function — inside SQLite, so both sides agree.

/** |n| at or above this is epoch milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973. */
export const EPOCH_MS_THRESHOLD = 100_000_000_000;
/** BigQuery TIMESTAMP's range: 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC. */
export const TIMESTAMP_MIN_MS = -62_135_596_800_000;
export const TIMESTAMP_MAX_MS = 253_402_300_799_999;

const TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

function fromEpoch(n: number): number | null {
  if (!Number.isFinite(n)) return null;
  return Math.round(Math.abs(n) >= EPOCH_MS_THRESHOLD ? n : n * 1000);
}

function fromText(text: string): number | null {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return fromEpoch(Number(t));
  const m = TEXT.exec(t);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x)));
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h, mi, s, ms);
  // Not a calendar day or time ('2024-02-30', '25:00'): no instant.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d) return null;
  if (h > 23 || mi > 59 || s > 59) return null;
  const zone = m[8];
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0));
  }
  return date.getTime() - offsetMin * 60_000;
}

/** The instant a cursor value stands for, in epoch milliseconds (UTC), or null when it is none. */
export function instantMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value === 'bigint') return fromEpoch(Number(value));
  if (typeof value === 'string') return fromText(value);
  return null;
}

/** The stored form of a cursor: ISO 8601 UTC with milliseconds (years outside 0000..9999 as ±YYYYYY). */
export const instantText = (ms: number): string => new Date(ms).toISOString();

/** The SQL function name the SQLite reader registers for instantMs. */
export const SQLITE_INSTANT_FUNCTION = 'learnsync_instant_ms';
