// Source column types → BigQuery column types, the conversion of each value into what a
// NEWLINE_DELIMITED_JSON load accepts, and the comparison of the source's schema with the one
// BigQuery has: new columns are added, a changed type stops that table with the column named.
// The mapping table in the README is this file's DECLARED_TYPE_RULES, in the same order.
import { ValidationError } from '../../errors.js';
import { instantMs, TIMESTAMP_MAX_MS, TIMESTAMP_MIN_MS } from '../../connectors/app-db/instant.js';
import { InvalidUtf8, type SourceColumn, type SourceDialect } from '../../connectors/app-db/source.js';

export type BigQueryType = 'INT64' | 'FLOAT64' | 'NUMERIC' | 'BOOL' | 'STRING' | 'BYTES' | 'TIMESTAMP' | 'DATE';

export interface TargetColumn {
  name: string;
  type: BigQueryType;
}

/**
 * First match wins, on the lower-cased declared type. SQLite follows its affinity rules
 * (INT → integer, CHAR/CLOB/TEXT → text, BLOB → bytes, REAL/FLOA/DOUB → real), with the
 * declared names apps use for dates, booleans and JSON recognised first.
 */
const DECLARED_TYPE_RULES: Array<{ dialect: SourceDialect | 'any'; test: RegExp; type: BigQueryType }> = [
  { dialect: 'any', test: /^bool/, type: 'BOOL' },
  { dialect: 'postgres', test: /^timestamp/, type: 'TIMESTAMP' },
  { dialect: 'sqlite', test: /datetime|timestamp/, type: 'TIMESTAMP' },
  { dialect: 'any', test: /^date$/, type: 'DATE' },
  { dialect: 'any', test: /json/, type: 'STRING' },
  { dialect: 'postgres', test: /^(smallint|integer|bigint|int[248]?|serial|bigserial)/, type: 'INT64' },
  { dialect: 'postgres', test: /^(real|double precision|float)/, type: 'FLOAT64' },
  { dialect: 'postgres', test: /^(numeric|decimal)/, type: 'NUMERIC' },
  { dialect: 'postgres', test: /^bytea/, type: 'BYTES' },
  { dialect: 'sqlite', test: /int/, type: 'INT64' },
  { dialect: 'sqlite', test: /char|clob|text/, type: 'STRING' },
  { dialect: 'sqlite', test: /blob/, type: 'BYTES' },
  { dialect: 'sqlite', test: /real|floa|doub/, type: 'FLOAT64' },
  { dialect: 'sqlite', test: /numeric|decimal/, type: 'NUMERIC' },
];

export function bigQueryTypeOf(dialect: SourceDialect, declaredType: string): BigQueryType {
  const t = declaredType.trim().toLowerCase();
  for (const r of DECLARED_TYPE_RULES)
    if ((r.dialect === 'any' || r.dialect === dialect) && r.test.test(t)) return r.type;
  // SQLite columns without a declared type hold anything; Postgres's uuid, text, varchar, enums… are text.
  return 'STRING';
}

export interface SchemaChanges {
  add: TargetColumn[];
  /** Columns BigQuery has with another type than the source now maps to. */
  incompatible: Array<{ column: string; bigquery: string; source: string }>;
}

export function compareSchemas(
  bigquery: readonly TargetColumn[] | ReadonlyArray<{ name: string; type: string }>,
  desired: readonly TargetColumn[],
): SchemaChanges {
  const have = new Map(bigquery.map((c) => [c.name.toLowerCase(), c.type]));
  const add: TargetColumn[] = [];
  const incompatible: SchemaChanges['incompatible'] = [];
  for (const c of desired) {
    const existing = have.get(c.name.toLowerCase());
    if (existing === undefined) add.push(c);
    else if (existing !== c.type) incompatible.push({ column: c.name, bigquery: existing, source: c.type });
  }
  return { add, incompatible };
}

export function incompatibleSchemaError(table: string, changes: SchemaChanges): ValidationError {
  const what = changes.incompatible
    .map((c) => `column ${c.column} is ${c.bigquery} in BigQuery but ${c.source} in the source`)
    .join('; ');
  return new ValidationError(
    `app-db table ${table}: ${what}. BigQuery cannot change a column's type in place: rename the source column, ` +
      `or drop the BigQuery table and its bq_sync_tracking row so the next full sync recreates it`,
  );
}

const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/;
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** BigQuery NUMERIC: 38 digits of precision, 9 of them after the point. */
const NUMERIC_INT_DIGITS = 29;
const NUMERIC_SCALE = 9;

const shown = (value: unknown) => JSON.stringify(String(value).slice(0, 40));

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** 'YYYY-MM-DD' is a day of the calendar (cheap: no Date object on the hot path). */
function calendarDay(ymd: string): boolean {
  const y = Number(ymd.slice(0, 4));
  const mo = Number(ymd.slice(5, 7));
  const d = Number(ymd.slice(8, 10));
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]!) return false;
  return mo !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
}

/** 'HH:MM[:SS[.f]]' of a day, and an offset BigQuery takes (at most ±14:00). */
function clockTime(hms: string, zone: string | undefined): boolean {
  if (Number(hms.slice(0, 2)) > 23 || Number(hms.slice(3, 5)) > 59) return false;
  if (hms.length >= 8 && Number(hms.slice(6, 8)) > 59) return false;
  return !zone || zone === 'Z' || Number(zone.slice(1, 3)) * 60 + Number(zone.replace(':', '').slice(3, 5)) <= 14 * 60;
}

function inTimestampRange(ms: number, value: unknown): number {
  if (ms < TIMESTAMP_MIN_MS || ms > TIMESTAMP_MAX_MS)
    throw new Error(`timestamp ${shown(value)} is outside BigQuery's range (years 0001 to 9999)`);
  return ms;
}

const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

function int64(value: unknown): string | number {
  // The common cases first, without BigInt arithmetic: SQLite's BigInt and JS numbers that are exact.
  if (typeof value === 'bigint' && value >= SAFE_MIN && value <= SAFE_MAX) return Number(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) n = BigInt(value.trim());
  else throw new Error(`not an integer: ${shown(value)}`);
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(`integer ${shown(value)} is outside BigQuery's INT64 range`);
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : n.toString();
}

function numeric(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = value.toString();
  else if (typeof value === 'number' && Number.isFinite(value))
    text = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  else if (typeof value === 'string') text = value.trim();
  else throw new Error(`not a number: ${shown(value)}`);
  // Small floats print with an exponent ('1e-7'): their fixed form, digits beyond the scale are checked below.
  if (/e/i.test(text) && typeof value === 'number') text = value.toFixed(20).replace(/0+$/, '');
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && !m[3])) throw new Error(`not a number: ${shown(value)}`);
  const intDigits = m[2]!.replace(/^0+/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (intDigits.length > NUMERIC_INT_DIGITS || fraction.length > NUMERIC_SCALE)
    throw new Error(
      `number ${shown(value)} does not fit BigQuery's NUMERIC (${NUMERIC_INT_DIGITS} digits before the point, ` +
        `${NUMERIC_SCALE} after)`,
    );
  return `${m[1] === '-' ? '-' : ''}${intDigits || '0'}${fraction ? `.${fraction}` : ''}`;
}

/**
 * A value as the NDJSON load expects it for `type`; throws a message naming what is wrong. A value
 * BigQuery would refuse (out of range, not a calendar day) throws here, so it becomes that row's
 * reject instead of failing the table's whole load job.
 */
export function toBigQueryValue(value: unknown, type: BigQueryType): unknown {
  if (value === null || value === undefined) return null;
  // Rejected, not changed: kept as bytes it would no longer be the column's type (see README).
  if (value instanceof InvalidUtf8) throw new Error(`${String(value)}`);
  switch (type) {
    case 'INT64':
      return int64(value);
    case 'FLOAT64': {
      const n = typeof value === 'string' ? Number(value) : typeof value === 'bigint' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n) && !(typeof value === 'string' && value.trim() === '')) return n;
      throw new Error(`not a number: ${shown(value)}`);
    }
    case 'NUMERIC':
      return numeric(value);
    case 'BOOL':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1 || value === 0n || value === 1n) return value === 1 || value === 1n;
      if (value === '0' || value === '1' || value === 'true' || value === 'false')
        return value === '1' || value === 'true';
      throw new Error(`not a boolean: ${shown(value)}`);
    case 'TIMESTAMP': {
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new Error(`not a timestamp: ${shown(value)}`);
        return new Date(inTimestampRange(value.getTime(), value)).toISOString();
      }
      // SQLite keeps timestamps as text ('2024-05-01 10:00:00') or epoch numbers: seconds, or
      // milliseconds from 1e11 on — read as the cursor reads them (instant.ts).
      if (typeof value === 'number' || typeof value === 'bigint') {
        const ms = instantMs(value);
        if (ms === null) throw new Error(`not a timestamp: ${shown(value)}`);
        return new Date(inTimestampRange(ms, value)).toISOString();
      }
      const m = typeof value === 'string' ? TIMESTAMP_TEXT.exec(value.trim()) : null;
      if (!m || !calendarDay(m[1]!) || !clockTime(m[2]!, m[3])) throw new Error(`not a timestamp: ${shown(value)}`);
      // Only the first and last years can leave the range through an offset (or be year 0000).
      if (/^(0000|0001|9999)/.test(m[1]!)) {
        const ms = instantMs(value);
        if (ms === null) throw new Error(`not a timestamp: ${shown(value)}`);
        inTimestampRange(ms, value);
      }
      const zone =
        m[3] === undefined || m[3] === 'Z'
          ? '+00:00'
          : m[3].includes(':')
            ? m[3]
            : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
      return `${m[1]} ${m[2]}${zone}`;
    }
    case 'DATE': {
      const text =
        value instanceof Date && !Number.isNaN(value.getTime())
          ? value.toISOString().slice(0, 10)
          : typeof value === 'string'
            ? value
            : '';
      // A calendar day of the years 0001..9999: instantMs checks the calendar.
      if (DATE_TEXT.test(text) && text >= '0001-01-01' && instantMs(`${text} 00:00:00`) !== null) return text;
      throw new Error(`not a date BigQuery holds: ${shown(value)}`);
    }
    case 'BYTES':
      if (Buffer.isBuffer(value)) return value.toString('base64');
      return Buffer.from(String(value)).toString('base64');
    case 'STRING':
      if (typeof value === 'string') return value;
      if (value instanceof Date) return value.toISOString();
      if (Buffer.isBuffer(value)) return value.toString('base64');
      if (typeof value === 'object') return JSON.stringify(value);
      return String(value);
  }
}

export function sourceColumnsToTarget(dialect: SourceDialect, columns: readonly SourceColumn[]): TargetColumn[] {
  return columns.map((c) => ({ name: c.name, type: bigQueryTypeOf(dialect, c.declaredType) }));
}
