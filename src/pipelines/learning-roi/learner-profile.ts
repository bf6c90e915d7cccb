// Live reads of one learner's exam history (the seed's backend): Kusto first, through a 5-minute
// cache; when Kusto cannot be reached, the last synced warehouse data — and the answer always says
// which of the three it is. Used by `learnsync profile` and its HTTP endpoint.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../config.js';
import type { KustoTable } from '../../connectors/kusto/client.js';
import type { Pool } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import type { KustoClusters } from './clusters.js';
import { LEARNER_EXAM_QUERIES } from './sources.js';
import { computedScore, emailProblem, fiscalYear, normalizeEmail } from './identity-rules.js';

export interface LearnerExam {
  source: 'ace' | 'pearson';
  attemptId: string;
  examCode: string;
  examName: string | null;
  examDate: string;
  fiscalYear: string;
  passed: boolean;
  score: number | null;
  scoreMethod: 'computed' | 'reported' | null;
}

export interface LearnerProfile {
  email: string;
  dotcomId: number | null;
  resolvedBy: string | null;
  /**
   * kusto: read live now; cache: a live read from the last few minutes; warehouse: the last sync, Kusto being
   * unreachable.
   */
  source: 'kusto' | 'cache' | 'warehouse';
  fetchedAt: string;
  /** When the warehouse data was last synced (source 'warehouse'). */
  syncedAt?: string | null;
  kustoError?: string;
  exams: LearnerExam[];
  summary: { exams: number; passed: number; certifications: string[] };
}

export interface ProfileServiceOptions {
  warehouse?: Pool;
  clusters: () => Promise<KustoClusters>;
  config: Config;
  now?: () => number;
  /** A live read waits this long before falling back (the server timeout of its queries too). */
  liveTimeoutMs?: number;
}

const CACHE_LIMIT = 1000;

function cell(t: KustoTable, row: unknown[], name: string): unknown {
  const i = t.columns.findIndex((c) => c.name === name);
  return i < 0 ? undefined : row[i];
}

const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : null;

function aceExams(t: KustoTable): LearnerExam[] {
  const out: LearnerExam[] = [];
  for (const r of t.rows) {
    const correct = num(cell(t, r, 'correct_answers'));
    const incorrect = num(cell(t, r, 'incorrect_answers'));
    const at = new Date(String(cell(t, r, 'exam_date')));
    const passed = cell(t, r, 'passed');
    // The warehouse rejects these rows; a live answer must not show what a synced one would not.
    if (Number.isNaN(at.getTime()) || typeof passed !== 'boolean' || (correct ?? 0) < 0 || (incorrect ?? 0) < 0)
      continue;
    const score = computedScore(correct, incorrect);
    out.push({
      source: 'ace',
      attemptId: String(cell(t, r, 'exam_id')),
      examCode: String(cell(t, r, 'exam_code')),
      examName: (cell(t, r, 'exam_name') as string) ?? null,
      examDate: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      fiscalYear: fiscalYear(at),
      passed,
      score,
      scoreMethod: score === null ? null : 'computed',
    });
  }
  return out;
}

function pearsonExams(t: KustoTable): LearnerExam[] {
  const out: LearnerExam[] = [];
  for (const r of t.rows) {
    const score = num(cell(t, r, 'Score'));
    const passing = num(cell(t, r, 'PassingScore'));
    const result = String(cell(t, r, 'Result') ?? '').toLowerCase();
    const at = new Date(String(cell(t, r, 'ExamDate')));
    const passed = ['pass', 'passed'].includes(result)
      ? true
      : ['fail', 'failed'].includes(result)
        ? false
        : score !== null && passing !== null
          ? score >= passing
          : null;
    if (Number.isNaN(at.getTime()) || passed === null || (score !== null && (score < 0 || score > 100))) continue;
    out.push({
      source: 'pearson',
      attemptId: String(cell(t, r, 'RegistrationId')),
      examCode: String(cell(t, r, 'ExamCode')),
      examName: (cell(t, r, 'ExamTitle') as string) ?? null,
      examDate: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      fiscalYear: fiscalYear(at),
      passed,
      score: score === null ? null : Math.round(score * 10) / 10,
      scoreMethod: score === null ? null : 'reported',
    });
  }
  return out;
}

function summarise(exams: LearnerExam[]): LearnerProfile['summary'] {
  return {
    exams: exams.length,
    passed: exams.filter((e) => e.passed).length,
    certifications: [...new Set(exams.filter((e) => e.passed).map((e) => e.examCode))].sort(),
  };
}

export class LearnerProfileService {
  private readonly cache = new Map<string, { at: number; profile: LearnerProfile }>();
  private readonly now: () => number;

  constructor(private readonly opts: ProfileServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  async profile(rawEmail: string, opts: { refresh?: boolean } = {}): Promise<LearnerProfile> {
    const email = normalizeEmail(rawEmail);
    const problem = emailProblem(email);
    if (problem || !email)
      throw new ValidationError(`${JSON.stringify(rawEmail.slice(0, 80))} is not a usable e-mail address: ${problem}`);
    const ttl = this.opts.config.learningRoi.liveCacheSeconds * 1000;
    const hit = this.cache.get(email);
    if (!opts.refresh && hit && this.now() - hit.at < ttl) return { ...hit.profile, source: 'cache' };

    const identity = await this.identity(email);
    let exams: LearnerExam[];
    try {
      exams = await this.live(email);
    } catch (err) {
      return this.fromWarehouse(email, identity, (err as Error).message);
    }
    const profile: LearnerProfile = {
      email,
      ...identity,
      source: 'kusto',
      fetchedAt: new Date(this.now()).toISOString(),
      exams,
      summary: summarise(exams),
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(email, { at: this.now(), profile });
    return profile;
  }

  private async live(email: string): Promise<LearnerExam[]> {
    const k = this.opts.config.kusto;
    const timeoutMs = this.opts.liveTimeoutMs ?? 15_000;
    const clusters = await this.opts.clusters();
    const [ace, pearson] = await Promise.all([
      clusters.analytics.query({
        name: LEARNER_EXAM_QUERIES.ace.name,
        database: LEARNER_EXAM_QUERIES.ace.database(),
        text: LEARNER_EXAM_QUERIES.ace.text,
        parameters: { learnerEmail: email },
        timeoutMs,
      }),
      clusters.exam.query({
        name: LEARNER_EXAM_QUERIES.pearson.name,
        database: LEARNER_EXAM_QUERIES.pearson.database(k),
        text: LEARNER_EXAM_QUERIES.pearson.text,
        parameters: { learnerEmail: email },
        timeoutMs,
      }),
    ]);
    return [...aceExams(ace), ...pearsonExams(pearson)].sort(
      (a, b) => a.examDate.localeCompare(b.examDate) || a.attemptId.localeCompare(b.attemptId),
    );
  }

  private async identity(email: string): Promise<{ dotcomId: number | null; resolvedBy: string | null }> {
    if (!this.opts.warehouse) return { dotcomId: null, resolvedBy: null };
    try {
      const { rows } = await this.opts.warehouse.query<{ dotcom_id: string; resolved_by: string }>(
        'SELECT dotcom_id, resolved_by FROM learning_roi.learner_identities WHERE email = $1',
        [email],
      );
      return rows[0]
        ? { dotcomId: Number(rows[0].dotcom_id), resolvedBy: rows[0].resolved_by }
        : { dotcomId: null, resolvedBy: null };
    } catch {
      return { dotcomId: null, resolvedBy: null }; // identity is a nicety; the exam history is the answer
    }
  }

  private async fromWarehouse(
    email: string,
    identity: { dotcomId: number | null; resolvedBy: string | null },
    kustoError: string,
  ): Promise<LearnerProfile> {
    if (!this.opts.warehouse)
      throw new Error(`Kusto is unreachable (${kustoError}) and no warehouse is configured to fall back on`);
    const { rows } = await this.opts.warehouse.query<{
      exam_source: 'ace' | 'pearson';
      attempt_id: string;
      exam_code: string;
      exam_name: string | null;
      exam_date: Date;
      fiscal_year: string;
      passed: boolean;
      score: string | null;
      score_method: 'computed' | 'reported' | null;
    }>(
      `SELECT exam_source, attempt_id, exam_code, exam_name, exam_date, fiscal_year, passed, score, score_method
         FROM learning_roi.individual_exams WHERE email = $1 ORDER BY exam_date, attempt_id`,
      [email],
    );
    const synced = await this.opts.warehouse.query<{ synced_at: Date | null }>(
      `SELECT max(synced_at) AS synced_at FROM learning_roi.dataset_syncs WHERE dataset = 'individual_exams'
        AND status = 'success'`,
    );
    const exams: LearnerExam[] = rows.map((r) => ({
      source: r.exam_source,
      attemptId: r.attempt_id,
      examCode: r.exam_code,
      examName: r.exam_name,
      examDate: r.exam_date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      fiscalYear: r.fiscal_year,
      passed: r.passed,
      score: r.score === null ? null : Number(r.score),
      scoreMethod: r.score_method,
    }));
    return {
      email,
      ...identity,
      source: 'warehouse',
      fetchedAt: new Date(this.now()).toISOString(),
      syncedAt: synced.rows[0]?.synced_at?.toISOString() ?? null,
      kustoError,
      exams,
      summary: summarise(exams),
    };
  }
}

/**
 * GET /api/learners/<email>/exams[?refresh=1] → LearnerProfile as JSON; GET /api/sync-status →
 * sync_status.json as the warehouse has it now (when given); GET /healthz → ok.
 */
export async function startProfileServer(
  service: LearnerProfileService,
  port: number,
  opts: { host?: string; syncStatus?: () => Promise<unknown> } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/api/sync-status' && opts.syncStatus) {
      opts.syncStatus().then(
        (st) => send(200, st),
        (err: Error) => send(503, { error: err.message }),
      );
      return;
    }
    const m = /^\/api\/learners\/([^/]+)\/exams$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return send(404, { error: 'not found: try GET /api/learners/<email>/exams' });
    service
      .profile(decodeURIComponent(m[1]!), { refresh: url.searchParams.get('refresh') === '1' })
      .then((p) => send(200, p))
      .catch((err: Error) => send(err instanceof ValidationError ? 400 : 503, { error: err.message }));
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
