// The one definition of how learnsync turns an e-mail as a source wrote it into the key that
// identifies a learner, and when that key is unusable. TypeScript (the live profile) uses the
// functions below; the warehouse uses learning_roi.normalize_email / email_problem, whose SQL is
// generated from the same constants (migration 023), and the Kusto queries strip the same characters
// (sources.ts). test/pipelines/learning-roi/identity-normalisation.test.ts runs one corpus through
// both and requires identical answers.
//
// Policy (README "Identity policy"):
//   1. remove zero-width and no-break characters anywhere (ZWSP, ZWNJ, ZWJ, word joiner, BOM,
//      soft hyphen, NBSP, figure space, narrow NBSP);
//   2. trim ASCII whitespace at both ends;
//   3. Unicode NFC (so "rené" typed as e + combining accent is the same learner);
//   4. lower-case with Unicode's full case mapping.
// Nothing else: plus-addressing (a+tag@x.com) and a trailing dot (a@x.com.) stay distinct
// addresses, because a mail provider, not learnsync, decides whether they reach the same person.
// Rejected with a reason, never a crash: empty; not local@domain.tld; over 254 octets in total or
// 64 in the local part (RFC 5321); a local part starting with = + - (a spreadsheet formula).

/** Code points removed wherever they appear. */
export const EMAIL_STRIPPED_CODE_POINTS = [
  0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x00a0, 0x2007, 0x202f,
] as const;
/** Code points trimmed from both ends (after stripping). */
export const EMAIL_TRIMMED_CODE_POINTS = [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d] as const;

export const EMAIL_MAX_OCTETS = 254;
export const EMAIL_LOCAL_MAX_OCTETS = 64;

export const EMAIL_PROBLEMS = {
  invalid: 'missing or invalid email',
  tooLong: `email longer than ${EMAIL_MAX_OCTETS} octets`,
  localTooLong: `email local part longer than ${EMAIL_LOCAL_MAX_OCTETS} octets`,
  formula: 'email starts with a spreadsheet formula character (= + -)',
} as const;

const hex = (cp: number) => cp.toString(16).padStart(4, '0');
/** A regex character class both JavaScript (flag u) and Postgres AREs read the same way. */
const charClass = (cps: readonly number[]) => `[${cps.map((cp) => `\\u${hex(cp)}`).join('')}]`;

const STRIP_CLASS = charClass(EMAIL_STRIPPED_CODE_POINTS);
const TRIM_CLASS = charClass(EMAIL_TRIMMED_CODE_POINTS);
// Whitespace and control characters by explicit code point, so no locale decides what they are.
const NOT_IN_PART = '[^@\\u0001-\\u0020\\u007f-\\u009f\\u1680\\u2000-\\u200a\\u2028\\u2029\\u205f\\u3000]';
/** local@domain.tld: no spaces, no control characters, exactly one @, a dot in the domain. */
export const EMAIL_SHAPE = `^${NOT_IN_PART}+@${NOT_IN_PART}+[.]${NOT_IN_PART}+$`;
const FORMULA_START = '^[=+-]';

const STRIP_RE = new RegExp(STRIP_CLASS, 'gu');
const TRIM_RE = new RegExp(`^${TRIM_CLASS}+|${TRIM_CLASS}+$`, 'gu');
const SHAPE_RE = new RegExp(EMAIL_SHAPE, 'u');
const FORMULA_RE = new RegExp(FORMULA_START, 'u');

/** The learner key of an e-mail; '' and nothing → undefined. */
export function normalizeEmail(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const e = raw.replace(STRIP_RE, '').replace(TRIM_RE, '').normalize('NFC').toLowerCase();
  return e || undefined;
}

/** Why a normalised e-mail cannot identify a learner, or undefined when it can. */
export function emailProblem(normalized: string | null | undefined): string | undefined {
  if (!normalized) return EMAIL_PROBLEMS.invalid;
  if (Buffer.byteLength(normalized, 'utf8') > EMAIL_MAX_OCTETS) return EMAIL_PROBLEMS.tooLong;
  if (!SHAPE_RE.test(normalized)) return EMAIL_PROBLEMS.invalid;
  const local = normalized.slice(0, normalized.indexOf('@'));
  if (Buffer.byteLength(local, 'utf8') > EMAIL_LOCAL_MAX_OCTETS) return EMAIL_PROBLEMS.localTooLong;
  if (FORMULA_RE.test(local)) return EMAIL_PROBLEMS.formula;
  return undefined;
}

export function isValidEmail(normalized: string | null | undefined): normalized is string {
  return emailProblem(normalized) === undefined;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * The same rules as SQL functions. Case mapping uses the pg_unicode_fast collation (Postgres 18)
 * or ICU's root locale when the server has one of them, so the result does not depend on the
 * database's locale; without either, lower() follows the database's LC_CTYPE.
 */
export function emailFunctionsSql(schema: string): string {
  return `
DO $do$
DECLARE coll TEXT := CASE
    WHEN EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'pg_unicode_fast') THEN ' COLLATE pg_unicode_fast'
    WHEN EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN ' COLLATE "und-x-icu"'
    ELSE '' END;
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION ${schema}.normalize_email(raw TEXT) RETURNS TEXT
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $fn$ SELECT nullif(lower(normalize(regexp_replace(regexp_replace(raw, %L, '', 'g'), %L, '', 'g'), NFC)%s), '') $fn$
  $f$, ${sqlString(STRIP_CLASS)}, ${sqlString(`^${TRIM_CLASS}+|${TRIM_CLASS}+$`)}, coll);
END
$do$;

CREATE OR REPLACE FUNCTION ${schema}.email_problem(normalized TEXT) RETURNS TEXT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT CASE
    WHEN normalized IS NULL OR normalized = '' THEN ${sqlString(EMAIL_PROBLEMS.invalid)}
    WHEN octet_length(normalized) > ${EMAIL_MAX_OCTETS} THEN ${sqlString(EMAIL_PROBLEMS.tooLong)}
    WHEN normalized !~ ${sqlString(EMAIL_SHAPE)} THEN ${sqlString(EMAIL_PROBLEMS.invalid)}
    WHEN octet_length(split_part(normalized, '@', 1)) > ${EMAIL_LOCAL_MAX_OCTETS} THEN ${sqlString(EMAIL_PROBLEMS.localTooLong)}
    WHEN normalized ~ ${sqlString(FORMULA_START)} THEN ${sqlString(EMAIL_PROBLEMS.formula)}
  END $fn$;

CREATE OR REPLACE FUNCTION ${schema}.is_valid_email(normalized TEXT) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT ${schema}.email_problem(normalized) IS NULL $fn$;
`;
}

/** The stripping and trimming as a KQL expression (Kusto has no NFC: see README "Identity policy"). */
export function kqlNormalizeEmail(expr: string): string {
  const re2 = (cps: readonly number[]) => `[${cps.map((cp) => `\\x{${hex(cp)}}`).join('')}]`;
  return `tolower(trim(@"${re2(EMAIL_TRIMMED_CODE_POINTS)}+", replace_regex(${expr}, @"${re2(EMAIL_STRIPPED_CODE_POINTS)}", "")))`;
}
