// CSV cells that a spreadsheet cannot turn into a formula. A cell starting with = + - @, a tab or
// a carriage return is prefixed with ' (OWASP's advice for CSV injection), unless the consumer is
// a machine that wants the raw value (CSV_NEUTRALISE_FORMULAS=false). Files written in Node use
// csvCell; files Postgres writes with COPY … CSV use csvSafeSql on their text columns — both from
// the one FORMULA_START below.

/** What a spreadsheet reads as the start of a formula (or of a cell it re-parses). */
export const FORMULA_START = /^[=+\-@\t\r]/;
const FORMULA_START_SQL = "'^[=+@\\t\\r-]'";

/** One CSV field: neutralised (by default), quoted when it holds a comma, quote or line break. */
export function csvCell(value: unknown, opts: { neutralise?: boolean } = {}): string {
  if (value === null || value === undefined) return '';
  let s =
    value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Numbers are data, not formulas: -5 stays -5.
  if (opts.neutralise !== false && typeof value !== 'number' && typeof value !== 'bigint' && FORMULA_START.test(s))
    s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A SQL expression for a text column of a COPY … CSV export, neutralised like csvCell. */
export function csvSafeSql(column: string, neutralise = true): string {
  return neutralise
    ? `CASE WHEN ${column} ~ E${FORMULA_START_SQL} THEN '''' || ${column} ELSE ${column} END AS ${column}`
    : column;
}
