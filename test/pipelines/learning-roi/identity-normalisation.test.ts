// The identity policy at its edges: one normalisation for SQL and TypeScript (checked over one
// corpus), Unicode spellings of one address resolving to one learner, RFC length limits rejected
// with a reason instead of crashing the stage, NULL verified counted as not verified, every exam
// row accounted for, and plus-addressing / trailing dots kept distinct.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLearners } from '../../../src/pipelines/learning-roi/identity.js';
import { emailProblem, normalizeEmail } from '../../../src/pipelines/learning-roi/identity-rules.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let db: TestDatabases;
const JOB = 'roi_resolve_identities';
const LONG = `${'x'.repeat(3000)}@example.com`;
const NFC = 'ren\u00e9@example.com';
const NFD = 'rene\u0301@example.com';

const CORPUS = [
  '  Alice@Example.COM ',
  'carol@example.com\t',
  `Bob@Example.com${String.fromCharCode(160)}`,
  NFC,
  NFD,
  'RENE\u0301@EXAMPLE.COM',
  'ze\u200bro@example.com',
  '\ufeffbom@example.com',
  'nb\u00a0sp@example.com',
  'soft\u00adhyphen@example.com',
  'join\u2060er@example.com',
  'narrow\u202fnbsp@example.com',
  'a+tag@example.com',
  'a@example.com.',
  '=1+1@x.com',
  '+1@x.com',
  '-cmd@x.com',
  'in side@example.com',
  'em\u2003space@example.com',
  'two@@example.com',
  'no-dot@localhost',
  'n/a',
  '',
  '   ',
  '\u200b',
  LONG,
  `${'l'.repeat(65)}@example.com`,
  `${'l'.repeat(64)}@example.com`,
  `u@${'d'.repeat(240)}.com`,
  `u@${'d'.repeat(250)}.com`,
  'ÄRGER@BEISPIEL.DE',
  'ΣΑΣ@example.gr',
  'İstanbul@example.com',
  'ctl\u0007@example.com',
  'tab\tinside@example.com',
  '用户@例子.广告',
];

beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});

describe('one e-mail normalisation for SQL and TypeScript', () => {
  it('gives the same key and the same verdict on every corpus entry', async () => {
    const { rows } = await db.warehouse.query<{ raw: string; key: string | null; problem: string | null }>(
      `SELECT raw, learning_roi.normalize_email(raw) AS key,
              learning_roi.email_problem(learning_roi.normalize_email(raw)) AS problem
         FROM unnest($1::text[]) WITH ORDINALITY AS t(raw, i) ORDER BY i`,
      [CORPUS],
    );
    const ts = CORPUS.map((raw) => ({
      raw,
      key: normalizeEmail(raw) ?? null,
      problem: emailProblem(normalizeEmail(raw)) ?? null,
    }));
    expect(rows).toEqual(ts);
  });

  it('applies the documented policy', () => {
    expect(normalizeEmail(NFD)).toBe(NFC);
    expect(normalizeEmail('RENE\u0301@EXAMPLE.COM')).toBe(NFC);
    expect(normalizeEmail('ze\u200bro@example.com')).toBe('zero@example.com');
    expect(normalizeEmail('nb\u00a0sp@example.com')).toBe('nbsp@example.com');
    expect(normalizeEmail('a+tag@example.com')).toBe('a+tag@example.com');
    expect(normalizeEmail('a@example.com.')).toBe('a@example.com.');
    expect(emailProblem(normalizeEmail(LONG))).toBe('email longer than 254 octets');
    expect(emailProblem(normalizeEmail(`${'l'.repeat(65)}@example.com`))).toBe(
      'email local part longer than 64 octets',
    );
    expect(emailProblem(normalizeEmail(`${'l'.repeat(64)}@example.com`))).toBeUndefined();
    expect(emailProblem('=1+1@x.com')).toMatch(/formula/);
    expect(emailProblem(normalizeEmail('\u200b'))).toBe('missing or invalid email');
  });
});

describe('identity stage on messy e-mails', () => {
  let counts: Awaited<ReturnType<typeof resolveLearners>>;

  beforeAll(async () => {
    const q = (sql: string, params: unknown[] = []) => db.warehouse.query(sql, params);
    await q(`INSERT INTO etl_kusto_runs (run_key, source, job_name, plan, started_at, finished_at) VALUES
      ('e', 'user_emails', 'x', '{}', now(), now()), ('s', 'user_signups', 'x', '{}', now(), now())`);
    await q(
      `INSERT INTO staging.kusto_ace_exam_results
         (exam_id, email, dotcomid, exam_code, exam_date, correct_answers, incorrect_answers, passed)
       SELECT 'a' || i, e, NULL, 'GH-200', '2024-01-10', 40, 10, true
         FROM unnest($1::text[]) WITH ORDINALITY AS t(e, i)`,
      [
        [
          NFC,
          NFD,
          'ze\u200bro@example.com',
          'zero@example.com',
          LONG,
          '=1+1@x.com',
          'a+tag@example.com',
          'a@example.com',
          'a@example.com.',
          'nul@example.com',
        ],
      ],
    );
    await q(
      `INSERT INTO staging.kusto_user_emails
         (run_key, partition_key, user_id, email, is_primary, verified, updated_at) VALUES
      ('e', 'p', 501, $1, true, true, '2023-01-01'),
      ('e', 'p', 502, 'zero@example.com', true, true, '2023-01-01'),
      ('e', 'p', 503, $2, true, true, '2023-01-01'),
      ('e', 'p', 504, 'nul@example.com', true, NULL, '2023-01-01'),
      ('e', 'p', 505, 'a@example.com', true, true, '2023-01-01')`,
      [NFD.toUpperCase(), LONG],
    );
    await q(
      `INSERT INTO staging.kusto_user_signups (run_key, partition_key, signup_at, actor_id, email) VALUES
      ('s', 'p', '2020-01-01', 601, $1)`,
      [`  ${LONG}  `],
    );
    counts = await withTransaction(db.warehouse, (tx) => resolveLearners(tx, JOB, '2026-01-01'));
  });

  it('survives a 3,000-character e-mail; NFC/NFD and zero-width spellings resolve to one learner', async () => {
    const { rows } = await db.warehouse.query(
      'SELECT email, dotcom_id::int AS id, resolved_by FROM learning_roi.learner_identities ORDER BY email',
    );
    expect(rows).toEqual([
      // plus-addressing and a trailing dot stay distinct addresses
      { email: 'a+tag@example.com', id: 0, resolved_by: 'unresolved' },
      { email: 'a@example.com', id: 505, resolved_by: 'verified_email' },
      { email: 'a@example.com.', id: 0, resolved_by: 'unresolved' },
      // verified = NULL is not verified: no claim
      { email: 'nul@example.com', id: 0, resolved_by: 'unresolved' },
      { email: NFC, id: 501, resolved_by: 'verified_email' },
      { email: 'zero@example.com', id: 502, resolved_by: 'verified_email' },
    ]);
  });

  it('rejects over-long identity e-mails with the reason, and accounts for every exam row', async () => {
    const rejects = await db.warehouse.query(
      `SELECT reason, raw->>'source' AS source FROM etl_rejects WHERE job_name = $1 ORDER BY source`,
      [JOB],
    );
    expect(rejects.rows).toEqual([
      { reason: 'email longer than 254 octets', source: 'user_emails' },
      { reason: 'email longer than 254 octets', source: 'user_signups' },
    ]);
    expect(counts).toMatchObject({ identityRows: 6, rejected: 2, learners: 6, resolved: 3 });
    expect(counts.examRows).toEqual({
      read: 10,
      resolved: 5, // NFC, NFD, ze​ro, zero, a@example.com
      unresolved: 3, // a+tag, a@example.com., nul
      rejected: 2,
      rejectedByReason: {
        'email longer than 254 octets': 1,
        'email starts with a spreadsheet formula character (= + -)': 1,
      },
    });
  });
});
