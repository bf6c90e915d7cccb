// SQL fragments for a deterministic generator that runs inside Postgres. hashint8extended is the
// hash Postgres itself uses for hash partitioning, so it is stable across machines and upgrades:
// the same scale and dates give the same rows everywhere.
import { sqlLiteral } from '../../../connectors/postgres.js';

/** A uniform number in [0, 1) from an integer SQL expression and a salt. */
export function rnd(key: string, salt: number): string {
  return `((hashint8extended((${key})::bigint, ${salt}) & 2147483647)::float8 / 2147483648.0)`;
}

/** One element of a fixed list, chosen by rnd(key, salt). */
export function pick(values: readonly string[], key: string, salt: number): string {
  return `(ARRAY[${values.map(sqlLiteral).join(', ')}])[1 + floor(${rnd(key, salt)} * ${values.length})::int]`;
}

/** Midnight UTC of a YYYY-MM-DD date as a timestamptz literal (no dependence on the session's TimeZone). */
export function utcMidnight(date: string): string {
  return `'${date}T00:00:00Z'::timestamptz`;
}

/** Days since 1970-01-01: keeps keys of different days apart. */
export function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}

export const SUBJECTS = [
  ['MATH', 'Mathematics'],
  ['READ', 'Reading'],
  ['SCI', 'Science'],
  ['WRIT', 'Writing'],
  ['SOC', 'Social Studies'],
  ['CODE', 'Computing'],
] as const;
export const SUBJECT_CODES = SUBJECTS.map(([code]) => code);

export const TENANT_NAMES = [
  'Northwind',
  'Riverside',
  'Cedar Grove',
  'Lakeshore',
  'Maple Ridge',
  'Summit',
  'Harbor View',
  'Pine Valley',
  'Brookfield',
  'Oakmont',
  'Silver Creek',
  'Fairview',
];
export const TENANT_SUFFIXES = ['School District', 'Academy', 'Learning Trust', 'Unified Schools'];
export const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonah',
  'Kofi',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
];
export const LAST_NAMES = [
  'Abbott',
  'Baptiste',
  'Chen',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kim',
  'Lopez',
  'Moreau',
  'Nakamura',
];

/** SQL for the skill id the generator gives (subject code, grade, n): the same md5 the skills table was built with. */
export function skillIdSql(subject: string, grade: string, n: string): string {
  return `md5('skill:' || ${subject} || ':' || ${grade} || ':' || ${n})::uuid`;
}
