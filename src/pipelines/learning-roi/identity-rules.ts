// The learner rules the SQL stages apply, in TypeScript, for code that reads Kusto directly (the
// live profile): the same normalisation, score and fiscal year, so a live answer and a synced one
// agree. The SQL versions are learning_roi.normalize_email / fiscal_year and the score expression
// in aggregate/learning-roi-datasets.ts; test/learning-roi checks both give the same results.

/** Trim spaces, tabs, line breaks and no-break spaces, lower-case; '' → undefined. */
export function normalizeEmail(raw: string | null | undefined): string | undefined {
  const e = (raw ?? '').replace(/^[ \t\r\n\u00a0]+|[ \t\r\n\u00a0]+$/g, '').toLowerCase();
  return e || undefined;
}

export function isValidEmail(normalized: string | undefined): normalized is string {
  return !!normalized && /^[^@\s]+@[^@\s]+[.][^@\s]+$/.test(normalized);
}

/** Microsoft fiscal year: July 2025 – June 2026 is FY26. */
export function fiscalYear(at: Date): string {
  const y = at.getUTCFullYear() + (at.getUTCMonth() >= 6 ? 1 : 0);
  return `FY${String(y % 100).padStart(2, '0')}`;
}

/** FY22-25 score from the answers, to one decimal; null when no answers were recorded. */
export function computedScore(correct: number | null, incorrect: number | null): number | null {
  if (correct === null || incorrect === null || correct < 0 || incorrect < 0 || correct + incorrect === 0) return null;
  return Math.round((1000 * correct) / (correct + incorrect)) / 10;
}
