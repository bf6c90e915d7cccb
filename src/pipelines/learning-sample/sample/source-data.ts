// Deterministic sample source for the learning-sample pipeline: exam results and user emails in
// the source database, with the mess real exports have — stray case and spaces, users with
// several emails, emails claimed by two accounts, learners never matched, and a few invalid rows.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { dateRange } from '../../dates.js';
import { prng } from '../../../stack/sample-kit/random.js';

export const EXAM_CODES = ['GH-100', 'GH-200', 'GH-300', 'GH-400', 'GH-500'] as const;

export interface SampleOptions {
  from: string;
  to: string;
  examsPerDay: number;
  users?: number;
}

const dayNumber = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
const primaryEmail = (u: number) => `learner${u}@example.org`;
const secondaryEmail = (u: number) => `l${u}.alt@mail.example.com`;

export async function createSampleSourceSchema(oltp: pg.Pool | pg.PoolClient): Promise<void> {
  await oltp.query(`
    CREATE SCHEMA IF NOT EXISTS sample_source;
    CREATE TABLE IF NOT EXISTS sample_source.user_emails (
      email TEXT NOT NULL, user_id BIGINT NOT NULL, verified BOOLEAN NOT NULL, PRIMARY KEY (email, user_id));
    CREATE TABLE IF NOT EXISTS sample_source.exam_results (
      id BIGINT PRIMARY KEY, email TEXT, exam_code TEXT, score NUMERIC, passed BOOLEAN,
      source_user_id BIGINT, taken_at TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL);
    CREATE INDEX IF NOT EXISTS exam_results_taken_at ON sample_source.exam_results (taken_at);
    CREATE INDEX IF NOT EXISTS exam_results_updated_at ON sample_source.exam_results (updated_at);`);
}

function* userEmailLines(users: number): Generator<string> {
  const rnd = prng(42);
  for (let u = 1; u <= users; u++) {
    const r = rnd();
    if (r < 0.15) continue; // never matched: no email on record
    yield `${primaryEmail(u)}\t${u}\t${r < 0.75 ? 't' : 'f'}\n`;
    if (r > 0.6) yield `${secondaryEmail(u)}\t${u}\tf\n`;
    // Every 97th user's primary email is also claimed, unverified, by another account.
    if (u % 97 === 0 && u + 1 <= users) yield `${primaryEmail(u)}\t${u + 1}\tf\n`;
  }
}

function* examLines(date: string, examsPerDay: number, users: number): Generator<string> {
  const day = dayNumber(date);
  const rnd = prng(day);
  const start = Date.parse(`${date}T00:00:00Z`);
  for (let i = 0; i < examsPerDay; i++) {
    const id = day * 1_000_000 + i;
    const u = 1 + Math.floor(rnd() * users);
    const r = rnd();
    let email: string = r < 0.7 ? primaryEmail(u) : secondaryEmail(u);
    if (rnd() < 0.2) email = `  ${email.toUpperCase()} `; // stray case and spaces
    const emailField = rnd() < 0.01 ? '\\N' : email; // missing email → rejected
    let score = Math.round(rnd() * 1000) / 10;
    if (rnd() < 0.005) score = 100 + Math.round(rnd() * 50); // impossible score → rejected
    const exam = EXAM_CODES[Math.floor(rnd() * EXAM_CODES.length)]!;
    const sourceUser = rnd() < 0.5 ? String(u) : '\\N';
    const taken = new Date(start + Math.floor(rnd() * 86_400_000)).toISOString();
    yield `${id}\t${emailField}\t${exam}\t${score}\t${score >= 70 ? 't' : 'f'}\t${sourceUser}\t${taken}\t${taken}\n`;
  }
}

/** Writes (or rewrites) the sample source for every date of the range. Idempotent. */
export async function seedSampleSource(oltp: pg.Pool, opts: SampleOptions): Promise<{ exams: number; emails: number }> {
  const users = opts.users ?? Math.max(100, Math.round(opts.examsPerDay * 2.5));
  const client = await oltp.connect();
  try {
    await createSampleSourceSchema(client);
    await client.query('BEGIN');
    await client.query('TRUNCATE sample_source.user_emails');
    await pipeline(
      Readable.from(userEmailLines(users)),
      client.query(copyFrom('COPY sample_source.user_emails (email, user_id, verified) FROM STDIN')),
    );
    await client.query(
      `DELETE FROM sample_source.exam_results WHERE taken_at >= $1::date AND taken_at < $2::date + 1`,
      [opts.from, opts.to],
    );
    for (const date of dateRange(opts.from, opts.to)) {
      await pipeline(
        Readable.from(examLines(date, opts.examsPerDay, users)),
        client.query(
          copyFrom(
            'COPY sample_source.exam_results (id, email, exam_code, score, ' +
              'passed, source_user_id, taken_at, updated_at) FROM STDIN',
          ),
        ),
      );
    }
    await client.query('COMMIT');
    const { rows } = await client.query<{ exams: number; emails: number }>(
      `SELECT (SELECT count(*)::int FROM sample_source.exam_results WHERE taken_at >= $1::date
        AND taken_at < $2::date + 1) AS exams,
              (SELECT count(*)::int FROM sample_source.user_emails) AS emails`,
      [opts.from, opts.to],
    );
    return rows[0]!;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
