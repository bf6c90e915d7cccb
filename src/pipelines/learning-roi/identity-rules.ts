// The learner rules the SQL stages apply, in TypeScript, for code that reads Kusto directly (the
// live profile): the same normalisation, score and fiscal year, so a live answer and a synced one
// agree. E-mail normalisation has one definition, src/warehouse/email-identity.ts, from which the
// SQL functions are generated; fiscal_year and the score expression live in datasets.ts;
// test/pipelines/learning-roi checks both sides give the same results.

export { emailProblem, isValidEmail, normalizeEmail } from '../../warehouse/email-identity.js';

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
