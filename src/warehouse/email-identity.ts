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
/** Characters a local part may not start with: a spreadsheet would read a formula. */
const FORMULA_CHARS = ['=', '+', '-'] as const;
const FORMULA_START = `^[${FORMULA_CHARS.join('')}]`; // '-' last: a literal inside the class

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
const sqlChars = (cps: readonly number[]) => cps.map((cp) => `chr(${cp})`).join(' || ');
// For ASCII-only text (the common case) the same rules reduce to a trim and an ASCII lower-case:
// nothing to strip, nothing to compose. Postgres takes this path when octet_length = length, which
// keeps the function as cheap as the old trim-and-lower (the corpus test covers both paths).
const ASCII_NOT_IN_PART = '[^@\\u0001-\\u0020\\u007f]';
const ASCII_SHAPE = `^${ASCII_NOT_IN_PART}+@${ASCII_NOT_IN_PART}+[.]${ASCII_NOT_IN_PART}+$`;

/**
 * The same rules as SQL functions. Case mapping uses the pg_unicode_fast collation (Postgres 18)
 * or ICU's root locale when the server has one of them, so the result does not depend on the
 * database's locale; without either, lower() follows the database's LC_CTYPE for non-ASCII text.
 */
export function emailFunctionsSql(schema: string): string {
  const trimChars = sqlChars(EMAIL_TRIMMED_CODE_POINTS);
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
      AS $fn$ SELECT nullif(CASE WHEN octet_length(raw) = length(raw)
                                 THEN lower(btrim(raw, ${trimChars}) COLLATE "C") COLLATE "default"
                                 ELSE lower(normalize(btrim(regexp_replace(raw, %L, '', 'g'), ${trimChars}), NFC)%s)
                                        COLLATE "default" END, '') $fn$
  $f$, ${sqlString(STRIP_CLASS)}, coll);
END
$do$;

-- PL/pgSQL, not SQL: its argument is usually normalize_email(…), which a multi-reference SQL
-- function would not inline, costing a full function call per row.
CREATE OR REPLACE FUNCTION ${schema}.email_problem(normalized TEXT) RETURNS TEXT
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $fn$
BEGIN
  IF normalized IS NULL OR normalized = '' THEN RETURN ${sqlString(EMAIL_PROBLEMS.invalid)}; END IF;
  IF octet_length(normalized) > ${EMAIL_MAX_OCTETS} THEN RETURN ${sqlString(EMAIL_PROBLEMS.tooLong)}; END IF;
  IF octet_length(normalized) = length(normalized) THEN
    IF normalized !~ ${sqlString(ASCII_SHAPE)} THEN RETURN ${sqlString(EMAIL_PROBLEMS.invalid)}; END IF;
  ELSIF normalized !~ ${sqlString(EMAIL_SHAPE)} THEN RETURN ${sqlString(EMAIL_PROBLEMS.invalid)};
  END IF;
  IF octet_length(split_part(normalized, '@', 1)) > ${EMAIL_LOCAL_MAX_OCTETS} THEN
    RETURN ${sqlString(EMAIL_PROBLEMS.localTooLong)};
  END IF;
  IF left(normalized, 1) IN (${FORMULA_CHARS.map(sqlString).join(', ')}) THEN
    RETURN ${sqlString(EMAIL_PROBLEMS.formula)};
  END IF;
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ${schema}.is_valid_email(normalized TEXT) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $fn$ SELECT ${schema}.email_problem(normalized) IS NULL $fn$;
`;
}

/**
 * learning_roi.email_problem as one SQL expression over `col`, a plain column (it is read several
 * times): the same checks in the same order, for bulk statements where a PL/pgSQL call per row is
 * most of the cost (identity resolution at 1M learners, issue 19). The corpus test runs both.
 */
export function emailProblemSql(col: string): string {
  return `CASE WHEN ${col} IS NULL OR ${col} = '' THEN ${sqlString(EMAIL_PROBLEMS.invalid)}
    WHEN octet_length(${col}) > ${EMAIL_MAX_OCTETS} THEN ${sqlString(EMAIL_PROBLEMS.tooLong)}
    WHEN CASE WHEN octet_length(${col}) = length(${col}) THEN ${col} !~ ${sqlString(ASCII_SHAPE)}
              ELSE ${col} !~ ${sqlString(EMAIL_SHAPE)} END THEN ${sqlString(EMAIL_PROBLEMS.invalid)}
    WHEN octet_length(split_part(${col}, '@', 1)) > ${EMAIL_LOCAL_MAX_OCTETS}
      THEN ${sqlString(EMAIL_PROBLEMS.localTooLong)}
    WHEN left(${col}, 1) IN (${FORMULA_CHARS.map(sqlString).join(', ')}) THEN ${sqlString(EMAIL_PROBLEMS.formula)}
  END`;
}

/** The stripping and trimming as a KQL expression (Kusto has no NFC: see README "Identity policy"). */
export function kqlNormalizeEmail(expr: string): string {
  const re2 = (cps: readonly number[]) => `[${cps.map((cp) => `\\x{${hex(cp)}}`).join('')}]`;
  const stripped = `replace_regex(${expr}, @"${re2(EMAIL_STRIPPED_CODE_POINTS)}", "")`;
  return `tolower(trim(@"${re2(EMAIL_TRIMMED_CODE_POINTS)}+", ${stripped}))`;
}
