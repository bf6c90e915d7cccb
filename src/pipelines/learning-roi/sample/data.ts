// The built-in learning ROI sample: a deterministic population of learners behind the six Kusto
// tables the pipeline reads. At scale 1 it holds about 84,000 learners (exam e-mails) and 120,000
// exams from FY22 to FY26, 33,000 GitHub accounts with product usage and a few hundred with
// learning page views — with the mess of the real thing: e-mails in stray case and spaces, people
// who sat exams under two e-mails, e-mails claimed by two accounts, learners no source can match,
// exams whose answers were never recorded, and a few rows no validation should let through.
//
// Everything about person p comes from a PRNG seeded by p, so any row can be rebuilt on demand:
// the indexes below keep only (time or hash, person, item) per row, and a window's rows are
// regenerated when a query asks for them. That keeps 10× the sample in a few tens of MB.
import { fnv1a, prng } from '../../../stack/sample-kit/random.js';

const DAY_MS = 86_400_000;
export const SAMPLE_START = Date.parse('2021-07-01T00:00:00Z');
export const SAMPLE_END = Date.parse('2026-07-01T00:00:00Z');
/** Exams from this day on are in the Pearson table of the exam cluster (FY26). */
export const PEARSON_FROM = Date.parse('2025-07-01T00:00:00Z');
const SAMPLE_DAYS = (SAMPLE_END - SAMPLE_START) / DAY_MS;
/** People per unit of scale; about 1.1 exam e-mails each. */
const PEOPLE_PER_SCALE = 82_000;

const FIRST = [
  'ana',
  'ben',
  'chen',
  'dara',
  'eli',
  'fatima',
  'gus',
  'hana',
  'ivan',
  'jade',
  'kofi',
  'lena',
  'mateo',
  'nia',
  'omar',
  'priya',
  'quinn',
  'rosa',
  'sam',
  'tariq',
  'uma',
  'vic',
  'wen',
  'xavi',
  'yara',
  'zoe',
  'arjun',
  'bea',
  'carlos',
  'dmitri',
  'emma',
  'femi',
];
const LAST = [
  'smith',
  'garcia',
  'kim',
  'nguyen',
  'muller',
  'rossi',
  'silva',
  'khan',
  'okafor',
  'tanaka',
  'novak',
  'dubois',
  'jensen',
  'haddad',
  'patel',
  'cohen',
  'walsh',
  'ivanova',
  'lopez',
  'berg',
  'moreau',
  'santos',
  'yilmaz',
  'chowdhury',
];
const WORK_DOMAINS = [
  'contoso.com',
  'fabrikam.com',
  'northwind.example',
  'tailspin.example',
  'adatum.example',
  'woodgrove.example',
  'litware.example',
];
const HOME_DOMAINS = ['gmail.com', 'outlook.com', 'proton.me', 'yahoo.com'];

export const EXAMS = [
  { code: 'GH-900', name: 'GitHub Foundations', from: Date.parse('2023-01-01T00:00:00Z') },
  { code: 'GH-100', name: 'GitHub Administration', from: SAMPLE_START },
  { code: 'GH-200', name: 'GitHub Actions', from: SAMPLE_START },
  { code: 'GH-300', name: 'GitHub Copilot', from: Date.parse('2024-03-01T00:00:00Z') },
  { code: 'GH-500', name: 'GitHub Advanced Security', from: SAMPLE_START },
] as const;

export const PRODUCTS = ['copilot', 'actions', 'security'] as const;
export const SITES = ['learn', 'skills', 'docs'] as const;
const SITE_HOST = { learn: 'learn.microsoft.com', skills: 'skills.github.com', docs: 'docs.github.com' } as const;

export type IdSource = 'verified' | 'signup' | 'exam_record' | 'none';

export interface SampleAttempt {
  at: number;
  email: string;
  /** The e-mail as written in the exam record, stray case and spaces included. */
  rawEmail: string;
  exam: (typeof EXAMS)[number];
  correct: number;
  incorrect: number;
  passed: boolean;
  /** 0..100 as Pearson reports it (FY26). */
  score: number;
  dotcomid: number;
}

export interface SamplePerson {
  p: number;
  emails: string[];
  hasAccount: boolean;
  dotcomId: number;
  idSource: IdSource;
  attempts: SampleAttempt[];
  /**
   * snapshots.github_mysql1_user_emails_current rows (verified only): [user_id, email, primary, verified, updated_at].
   */
  verifiedEmails: Array<[number, string, boolean, boolean, number]>;
  /** hydro.github_v1_user_signup rows: [timestamp, actor_id, email]. */
  signups: Array<[number, number, string]>;
  /** canonical.user_daily_activity_per_product rows: [day, user_id, product, events]. */
  usage: Array<[number, number, string, number]>;
  /** hydro.analytics_v0_page_view events: [timestamp, actor_id, site, views]. */
  pageViews: Array<[number, number, (typeof SITES)[number], number]>;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Stray case and spaces, as people type them into exam registrations. */
function messUp(r: () => number, email: string): string {
  const v = r();
  if (v < 0.05) return email.toUpperCase();
  if (v < 0.1) return `  ${email}`;
  if (v < 0.14) return `${email[0]!.toUpperCase()}${email.slice(1)} `;
  if (v < 0.17) return `\t${email.replace(/^(.)/, (c) => c.toUpperCase())}`;
  if (v < 0.19) return `${email}\u00a0`;
  return email;
}

/** The sample's stand-in for Kusto's hash(): any stable hash works, as long as every query uses it. */
export function partitionOf(email: string, partitions: number): number {
  return fnv1a(email.trim().toLowerCase()) % partitions;
}

export function dotcomIdOf(p: number): number {
  return 10_000_000 + p * 17 + (p % 13);
}

export function buildPerson(p: number): SamplePerson {
  const r = prng(Math.imul(p, 0x9e3779b1) ^ 0x5eed);
  const first = pick(r, FIRST);
  const last = pick(r, LAST);
  const work = `${first}.${last}${p}@${pick(r, WORK_DOMAINS)}`;
  const home = `${first[0]}${last}.${p}@${pick(r, HOME_DOMAINS)}`;
  const emails = r() < 0.1 ? [work, home] : [r() < 0.6 ? work : home];
  const hasAccount = r() < 0.86;
  const dotcomId = hasAccount ? dotcomIdOf(p) : 0;
  const roll = r();
  const idSource: IdSource = !hasAccount
    ? 'none'
    : roll < 0.59
      ? 'verified'
      : roll < 0.71
        ? 'signup'
        : roll < 0.8
          ? 'exam_record'
          : 'none';
  const idOnExams = idSource === 'exam_record' || (hasAccount && r() < 0.25);

  // Exams: a first one, then retakes after a failure and further exams after a pass.
  const attempts: SampleAttempt[] = [];
  let at =
    SAMPLE_START +
    Math.floor(SAMPLE_DAYS * Math.pow(r(), 0.8)) * DAY_MS +
    (9 + Math.floor(r() * 11)) * 3_600_000 +
    Math.floor(r() * 3600) * 1000;
  let exam = pick(
    r,
    EXAMS.filter((e) => e.from <= at),
  );
  const recordsNoAnswers = r() < 0.2; // some test centres never sent answer counts
  for (let k = 0; k < 5 && at < SAMPLE_END; k++) {
    const questions = 50 + Math.floor(r() * 16);
    const skill = 0.5 + r() * 0.48 + (k > 0 ? 0.05 : 0);
    const correct = Math.min(questions, Math.round(questions * skill));
    const passed = correct / questions >= 0.7;
    const email = emails[emails.length > 1 && r() < 0.5 ? 1 : 0]!;
    const noAnswers = recordsNoAnswers && r() < 0.08;
    attempts.push({
      at,
      email,
      rawEmail: messUp(r, email),
      exam,
      correct: noAnswers ? 0 : correct,
      incorrect: noAnswers ? 0 : questions - correct,
      passed,
      score: Math.round((100 * correct) / questions),
      dotcomid: idOnExams ? dotcomId : 0,
    });
    if (!passed && r() < 0.46) at += (14 + Math.floor(r() * 46)) * DAY_MS;
    else if (passed && r() < 0.27) {
      at += (30 + Math.floor(r() * 170)) * DAY_MS;
      const next = EXAMS.filter((e) => e.from <= at && e.code !== exam.code);
      exam = pick(r, next.length ? next : EXAMS);
    } else break;
  }
  // A few rows no validation should accept: no usable e-mail, answer counts below zero, a Pearson score above 100.
  for (const a of attempts) {
    const bad = r();
    if (bad < 0.002) a.rawEmail = r() < 0.5 ? '' : 'n/a';
    else if (bad < 0.003) a.incorrect = -a.incorrect - 1;
    else if (bad < 0.004 && a.at >= PEARSON_FROM) a.score = 100 + Math.ceil(r() * 40);
  }

  const created = Math.max(
    Date.parse('2010-01-01T00:00:00Z'),
    (attempts[0]?.at ?? SAMPLE_START) - Math.floor(r() * 3000) * DAY_MS,
  );
  const verifiedEmails: SamplePerson['verifiedEmails'] = [];
  const signups: SamplePerson['signups'] = [];
  if (idSource === 'verified') {
    const updated = created + Math.floor(r() * 900) * DAY_MS;
    verifiedEmails.push([
      dotcomId,
      r() < 0.1 ? emails[0]!.replace(/^./, (c) => c.toUpperCase()) : emails[0]!,
      true,
      true,
      updated,
    ]);
    if (emails[1] && r() < 0.6) verifiedEmails.push([dotcomId, emails[1], false, true, updated]);
    // A stale second account that also verified this e-mail once: same source, two ids.
    if (r() < 0.003) verifiedEmails.push([90_000_000 + p, emails[0]!, false, true, created - 400 * DAY_MS]);
    if (r() < 0.5) signups.push([created, dotcomId, emails[0]!]);
    // An older account signed up with the same e-mail: the verified table must win.
    if (r() < 0.006) signups.push([created - 700 * DAY_MS, 80_000_000 + p, emails[0]!]);
  } else if (idSource === 'signup') {
    signups.push([created, dotcomId, r() < 0.15 ? ` ${emails[0]!.toUpperCase()}` : emails[0]!]);
  }
  if (idSource === 'signup' && r() < 0.01) {
    // The exam records carry another account's id for this e-mail: the signup must win.
    for (const a of attempts) if (a.at < PEARSON_FROM) a.dotcomid = 70_000_000 + p;
  }

  const usage: SamplePerson['usage'] = [];
  const pageViews: SamplePerson['pageViews'] = [];
  const matchable = idSource !== 'none' || (idOnExams && attempts.some((a) => a.at < PEARSON_FROM));
  const certifiedAt = attempts.find((a) => a.passed)?.at;
  // Certified learners are somewhat more likely to use the products, and use them more.
  if (matchable && r() < (certifiedAt ? 0.66 : 0.5)) {
    const around = certifiedAt ?? attempts[0]?.at ?? SAMPLE_START;
    const products = PRODUCTS.filter((_, i) => r() < [0.62, 0.5, 0.16][i]!);
    if (!products.length) products.push('copilot');
    for (const product of products) {
      const days = 1 + Math.floor(-Math.log(1 - r() * 0.95) * 1.6);
      for (let d = 0; d < days; d++) {
        // Learners use the products more after they certify: that is what the dashboard measures.
        const offset = r() < 0.35 ? -Math.floor(r() * 180) - 1 : Math.floor(r() * 300);
        const day = Math.floor((around + offset * DAY_MS) / DAY_MS) * DAY_MS;
        if (day < SAMPLE_START || day >= SAMPLE_END) continue;
        if (usage.some((u) => u[0] === day && u[2] === product)) continue;
        const scale = product === 'copilot' ? 60 : product === 'actions' ? 30 : 10;
        usage.push([day, dotcomId, product, 1 + Math.floor(r() * scale * (certifiedAt && offset >= 0 ? 1.4 : 1))]);
      }
    }
  }
  if (matchable && r() < 0.0068) {
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) {
      const ts = (attempts[0]?.at ?? SAMPLE_START) + Math.floor((r() - 0.5) * 200 * DAY_MS);
      if (ts < SAMPLE_START || ts >= SAMPLE_END) continue;
      pageViews.push([ts, dotcomId, pick(r, SITES), 1 + Math.floor(r() * 25)]);
    }
  }
  return { p, emails, hasAccount, dotcomId, idSource, attempts, verifiedEmails, signups, usage, pageViews };
}

/** (key, person, item) triples sorted by key: a row's address without the row. */
interface RowIndex {
  key: Float64Array;
  person: Int32Array;
  item: Uint16Array;
}

function buildIndex(entries: number[][]): RowIndex {
  const order = entries.map((_, i) => i).sort((a, b) => entries[a]![0]! - entries[b]![0]!);
  const idx: RowIndex = {
    key: new Float64Array(order.length),
    person: new Int32Array(order.length),
    item: new Uint16Array(order.length),
  };
  order.forEach((o, i) => {
    const [k, p, it] = entries[o]!;
    idx.key[i] = k!;
    idx.person[i] = p!;
    idx.item[i] = it!;
  });
  return idx;
}

function lowerBound(keys: Float64Array, value: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const iso = (ms: number) => new Date(ms).toISOString();
const normalize = (raw: string) => raw.replace(/^[\s\u00a0]+|[\s\u00a0]+$/g, '').toLowerCase();

export class LearningSample {
  readonly people: number;
  private readonly ace: RowIndex;
  private readonly pearson: RowIndex;
  private readonly usageIdx: RowIndex;
  private readonly viewIdx: RowIndex;
  private readonly emailIdx: { hash: Uint32Array; person: Int32Array; item: Uint16Array };
  private readonly signupIdx: { hash: Uint32Array; person: Int32Array; item: Uint16Array };
  private byEmail?: Map<string, number[]>;
  private cache = new Map<number, SamplePerson>();

  constructor(readonly scale: number) {
    this.people = Math.max(50, Math.round(PEOPLE_PER_SCALE * scale));
    const ace: number[][] = [];
    const pearson: number[][] = [];
    const usage: number[][] = [];
    const views: number[][] = [];
    const emails: number[][] = [];
    const signups: number[][] = [];
    for (let p = 1; p <= this.people; p++) {
      const person = buildPerson(p);
      person.attempts.forEach((a, i) => (a.at < PEARSON_FROM ? ace : pearson).push([a.at, p, i]));
      person.usage.forEach((u, i) => usage.push([u[0], p, i]));
      person.pageViews.forEach((v, i) => views.push([v[0], p, i]));
      person.verifiedEmails.forEach((e, i) => emails.push([fnv1a(e[1].trim().toLowerCase()), p, i]));
      person.signups.forEach((s, i) => signups.push([fnv1a(s[2].trim().toLowerCase()), p, i]));
    }
    this.ace = buildIndex(ace);
    this.pearson = buildIndex(pearson);
    this.usageIdx = buildIndex(usage);
    this.viewIdx = buildIndex(views);
    const hashIndex = (xs: number[][]) => ({
      hash: Uint32Array.from(xs.map((x) => x[0]!)),
      person: Int32Array.from(xs.map((x) => x[1]!)),
      item: Uint16Array.from(xs.map((x) => x[2]!)),
    });
    this.emailIdx = hashIndex(emails);
    this.signupIdx = hashIndex(signups);
  }

  person(p: number): SamplePerson {
    let x = this.cache.get(p);
    if (!x) {
      if (this.cache.size > 100_000) this.cache.clear();
      x = buildPerson(p);
      this.cache.set(p, x);
    }
    return x;
  }

  counts() {
    return {
      people: this.people,
      aceExams: this.ace.key.length,
      pearsonExams: this.pearson.key.length,
      verifiedEmails: this.emailIdx.hash.length,
      signups: this.signupIdx.hash.length,
      usageRows: this.usageIdx.key.length,
      pageViewEvents: this.viewIdx.key.length,
    };
  }

  private *range(idx: RowIndex, start: number, end: number): Generator<[SamplePerson, number]> {
    for (let i = lowerBound(idx.key, start); i < idx.key.length && idx.key[i]! < end; i++)
      yield [this.person(idx.person[i]!), idx.item[i]!];
  }

  /**
   * ace.exam_results: exam_id, email, dotcomid, exam_code, exam_name, exam_date, correct_answers, incorrect_answers,
   * passed.
   */
  aceRows(start: number, end: number): unknown[][] {
    const out: unknown[][] = [];
    for (const [x, i] of this.range(this.ace, start, end)) out.push(aceRow(x, i));
    return out;
  }

  /**
   * ACE.pearson_exam_results: RegistrationId, CandidateEmail, ExamCode, ExamTitle, ExamDate, Score, PassingScore,
   * Result.
   */
  pearsonRows(start: number, end: number): unknown[][] {
    const out: unknown[][] = [];
    for (const [x, i] of this.range(this.pearson, start, end)) out.push(pearsonRow(x, i));
    return out;
  }

  /** canonical.user_daily_activity_per_product, filtered to the three products: day, user_id, product, events. */
  usageRows(start: number, end: number): unknown[][] {
    const out: unknown[][] = [];
    for (const [x, i] of this.range(this.usageIdx, start, end)) {
      const [day, id, product, events] = x.usage[i]!;
      out.push([iso(day), id, product, events]);
    }
    return out;
  }

  /**
   * hydro.analytics_v0_page_view summarised per actor and site within [start, end): first_view_at, last_view_at,
   * actor_id, site, views.
   */
  pageViewRows(start: number, end: number): unknown[][] {
    const groups = new Map<string, [number, number, number, string, number]>();
    for (const [x, i] of this.range(this.viewIdx, start, end)) {
      const [ts, actor, site, views] = x.pageViews[i]!;
      const k = `${actor}|${site}`;
      const g = groups.get(k);
      if (g) {
        g[0] = Math.min(g[0], ts);
        g[1] = Math.max(g[1], ts);
        g[4] += views;
      } else groups.set(k, [ts, ts, actor, site, views]);
    }
    return [...groups.values()].map(([f, l, a, s, v]) => [iso(f), iso(l), a, s, v]);
  }

  private *partitionRows(
    idx: { hash: Uint32Array; person: Int32Array; item: Uint16Array },
    partition: number,
    partitions: number,
  ) {
    for (let i = 0; i < idx.hash.length; i++)
      if (idx.hash[i]! % partitions === partition) yield [this.person(idx.person[i]!), idx.item[i]!] as const;
  }

  /**
   * snapshots.github_mysql1_user_emails_current, verified rows of learners: user_id, email, is_primary, verified,
   * updated_at.
   */
  userEmailRows(partition: number, partitions: number): unknown[][] {
    const out: unknown[][] = [];
    for (const [x, i] of this.partitionRows(this.emailIdx, partition, partitions)) {
      out.push(emailRow(x, i));
    }
    return out;
  }

  /** hydro.github_v1_user_signup of learners' e-mails: signup_at, actor_id, email. */
  signupRows(partition: number, partitions: number): unknown[][] {
    const out: unknown[][] = [];
    for (const [x, i] of this.partitionRows(this.signupIdx, partition, partitions)) {
      out.push(signupRow(x, i));
    }
    return out;
  }

  /** Every exam of one normalised e-mail, from both tables (the live profile queries). */
  examsOf(email: string): { ace: unknown[][]; pearson: unknown[][] } {
    if (!this.byEmail) {
      this.byEmail = new Map();
      for (let p = 1; p <= this.people; p++) {
        for (const e of buildPerson(p).emails) {
          const list = this.byEmail.get(e) ?? [];
          list.push(p);
          this.byEmail.set(e, list);
        }
      }
    }
    const ace: unknown[][] = [];
    const pearson: unknown[][] = [];
    for (const p of this.byEmail.get(email) ?? []) {
      const x = this.person(p);
      x.attempts.forEach((a, i) => {
        if (normalize(a.rawEmail) !== email) return;
        if (a.at < PEARSON_FROM) ace.push(aceRow(x, i));
        else pearson.push(pearsonRow(x, i));
      });
    }
    return { ace, pearson };
  }
}

/** Every row one person contributes to the exam and identity tables, in the columns of learnsync's queries. */
export function personRows(x: SamplePerson): {
  ace: unknown[][];
  pearson: unknown[][];
  emails: unknown[][];
  signups: unknown[][];
} {
  const ace: unknown[][] = [];
  const pearson: unknown[][] = [];
  x.attempts.forEach((a, i) => (a.at < PEARSON_FROM ? ace.push(aceRow(x, i)) : pearson.push(pearsonRow(x, i))));
  return {
    ace,
    pearson,
    emails: x.verifiedEmails.map((_, i) => emailRow(x, i)),
    signups: x.signups.map((_, i) => signupRow(x, i)),
  };
}

function emailRow(x: SamplePerson, i: number): unknown[] {
  const [id, email, primary, verified, updated] = x.verifiedEmails[i]!;
  return [id, email, primary, verified, iso(updated)];
}

function signupRow(x: SamplePerson, i: number): unknown[] {
  const [ts, actor, email] = x.signups[i]!;
  return [iso(ts), actor, email];
}

function aceRow(x: SamplePerson, i: number): unknown[] {
  const a = x.attempts[i]!;
  return [
    String(x.p * 10 + i),
    a.rawEmail,
    a.dotcomid || null,
    a.exam.code,
    a.exam.name,
    iso(a.at),
    a.correct,
    a.incorrect,
    a.passed,
  ];
}

function pearsonRow(x: SamplePerson, i: number): unknown[] {
  const a = x.attempts[i]!;
  return [
    `PVUE-${x.p}-${i + 1}`,
    a.rawEmail,
    a.exam.code,
    a.exam.name,
    iso(a.at),
    a.score,
    70,
    a.score >= 70 ? 'Pass' : 'Fail',
  ];
}

export const SAMPLE_HOSTS = SITE_HOST;
