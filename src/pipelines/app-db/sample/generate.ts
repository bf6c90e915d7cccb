// The sample application database: the seed's tables in SQLite with the shapes real app data has
// (JSON kept as text, timestamps as text, nullable columns, a large insert-only chat_history),
// generated deterministically from a seed so that two runs give byte-identical rows. Only the
// stack wiring, the demo, tests and benches use it; the family's sync code never imports it.
import { openSqlite } from '../../../connectors/sqlite-binding.js';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

export const SAMPLE_SCHEMA = `
CREATE TABLE organizations (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  default_logo_color TEXT,
  openai_free_trial BOOLEAN, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, first_name TEXT, middle_name TEXT,
  last_name TEXT,
  default_dp_color TEXT, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE user_organizations (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, org_id INTEGER NOT NULL,
  role TEXT NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE cohorts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, org_id INTEGER NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE user_cohorts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, cohort_id INTEGER NOT NULL,
  role TEXT NOT NULL, joined_at DATETIME);
CREATE TABLE batches (id INTEGER PRIMARY KEY, name TEXT NOT NULL, cohort_id INTEGER NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE user_batches (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, batch_id INTEGER NOT NULL,
  created_at DATETIME NOT NULL);
CREATE TABLE courses (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, name TEXT NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE course_cohorts (id INTEGER PRIMARY KEY, course_id INTEGER NOT NULL, cohort_id INTEGER NOT NULL,
  is_drip_enabled BOOLEAN,
  frequency_value INTEGER, publish_at DATETIME, created_at DATETIME NOT NULL);
CREATE TABLE milestones (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, name TEXT NOT NULL, color TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE course_milestones (id INTEGER PRIMARY KEY, course_id INTEGER NOT NULL, milestone_id INTEGER NOT NULL,
  ordering INTEGER NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, type TEXT NOT NULL, blocks TEXT,
  title TEXT NOT NULL, status TEXT NOT NULL,
  scheduled_publish_at DATETIME, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, deleted_at DATETIME);
CREATE TABLE course_tasks (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, course_id INTEGER NOT NULL,
  ordering INTEGER NOT NULL, milestone_id INTEGER, created_at DATETIME NOT NULL);
CREATE TABLE questions (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, type TEXT NOT NULL, blocks TEXT,
  answer TEXT, input_type TEXT, coding_language TEXT,
  response_type TEXT, position INTEGER NOT NULL, max_attempts INTEGER, is_feedback_shown BOOLEAN, context TEXT,
    title TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE scorecards (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, title TEXT NOT NULL,
  criteria TEXT NOT NULL, status TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE question_scorecards (id INTEGER PRIMARY KEY, question_id INTEGER NOT NULL,
  scorecard_id INTEGER NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE chat_history (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, question_id INTEGER NOT NULL,
  role TEXT NOT NULL, content TEXT,
  response_type TEXT, created_at DATETIME NOT NULL);
CREATE TABLE task_completions (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, task_id INTEGER,
  question_id INTEGER, created_at DATETIME NOT NULL);
CREATE TABLE course_generation_jobs (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, course_id INTEGER NOT NULL,
  status TEXT NOT NULL, job_details TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE task_generation_jobs (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, task_id INTEGER NOT NULL,
  course_id INTEGER NOT NULL, status TEXT NOT NULL,
  job_details TEXT, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE org_api_keys (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, key TEXT NOT NULL,
  created_at DATETIME NOT NULL);
CREATE TABLE code_drafts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, question_id INTEGER NOT NULL, code TEXT,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE INDEX tasks_updated ON tasks (updated_at);
CREATE INDEX questions_updated ON questions (updated_at);
CREATE INDEX users_updated ON users (updated_at);
CREATE INDEX code_drafts_updated ON code_drafts (updated_at);
`;

export interface SampleAppDbOptions {
  chatRows: number;
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = Date.UTC(2025, 0, 6, 8, 0, 0);
/** SQLite's CURRENT_TIMESTAMP format, which is what the app writes: 'YYYY-MM-DD HH:MM:SS'. */
export const sqliteTimestamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Creates the file if it is missing or was generated at another scale; otherwise leaves it (and
 * any changes made to it) alone.
 */
export function ensureSampleAppDb(file: string, opts: SampleAppDbOptions): { generated: boolean } {
  if (existsSync(file)) {
    const db = openSqlite(file, { readonly: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    db.close();
    if (version === opts.chatRows) return { generated: false };
  }
  generateSampleAppDb(file, opts);
  return { generated: true };
}

export function generateSampleAppDb(file: string, opts: SampleAppDbOptions): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const db = openSqlite(tmp);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(SAMPLE_SCHEMA);
  const rnd = mulberry32(opts.seed ?? 20250106);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (n: number) => 1 + Math.floor(rnd() * n);
  const ts = (dayMax: number) => sqliteTimestamp(BASE + Math.floor(rnd() * dayMax * 86_400_000));
  const chatRows = opts.chatRows;
  const n = {
    orgs: 8,
    users: Math.max(50, Math.min(20_000, Math.round(chatRows / 50))),
    cohorts: 16,
    batches: 40,
    courses: 24,
    milestones: 48,
    tasks: 240,
    questions: 720,
    scorecards: 30,
  };
  const insert = (table: string, cols: string[]) =>
    db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const colors = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', null];
  const names = ['Asha', 'Ravi', 'Meera', 'Kabir', 'Zoya', 'Arjun', 'Ishaan', 'Diya', 'Vihaan', 'Anaya'];

  db.transaction(() => {
    const org = insert('organizations', [
      'id',
      'slug',
      'name',
      'default_logo_color',
      'openai_free_trial',
      'created_at',
      'updated_at',
    ]);
    for (let i = 1; i <= n.orgs; i++) {
      const c = ts(30);
      org.run(i, `org-${i}`, `Organisation ${i}`, pick(colors), rnd() < 0.5 ? 1 : rnd() < 0.5 ? 0 : null, c, c);
    }
    const user = insert('users', [
      'id',
      'email',
      'first_name',
      'middle_name',
      'last_name',
      'default_dp_color',
      'created_at',
      'updated_at',
    ]);
    const userOrg = insert('user_organizations', ['id', 'user_id', 'org_id', 'role', 'created_at']);
    for (let i = 1; i <= n.users; i++) {
      const c = ts(60);
      user.run(
        i,
        `learner${i}@example.org`,
        pick(names),
        rnd() < 0.2 ? pick(names) : null,
        `Lastname${i % 97}`,
        pick(colors),
        c,
        c,
      );
      userOrg.run(i, i, 1 + (i % n.orgs), i % 25 === 0 ? 'admin' : 'member', c);
    }
    const cohort = insert('cohorts', ['id', 'name', 'org_id', 'created_at', 'updated_at']);
    for (let i = 1; i <= n.cohorts; i++) {
      const c = ts(30);
      cohort.run(i, `Cohort ${i}`, 1 + (i % n.orgs), c, c);
    }
    const userCohort = insert('user_cohorts', ['id', 'user_id', 'cohort_id', 'role', 'joined_at']);
    for (let i = 1; i <= n.users; i++)
      userCohort.run(i, i, 1 + (i % n.cohorts), i % 30 === 0 ? 'mentor' : 'learner', rnd() < 0.1 ? null : ts(60));
    const batch = insert('batches', ['id', 'name', 'cohort_id', 'created_at', 'updated_at']);
    for (let i = 1; i <= n.batches; i++) {
      const c = ts(30);
      batch.run(i, `Batch ${i}`, 1 + (i % n.cohorts), c, c);
    }
    const userBatch = insert('user_batches', ['id', 'user_id', 'batch_id', 'created_at']);
    for (let i = 1; i <= n.users; i++) userBatch.run(i, i, 1 + (i % n.batches), ts(60));
    const course = insert('courses', ['id', 'org_id', 'name', 'created_at', 'updated_at']);
    for (let i = 1; i <= n.courses; i++) {
      const c = ts(30);
      course.run(i, 1 + (i % n.orgs), `Course ${i}`, c, c);
    }
    const courseCohort = insert('course_cohorts', [
      'id',
      'course_id',
      'cohort_id',
      'is_drip_enabled',
      'frequency_value',
      'publish_at',
      'created_at',
    ]);
    for (let i = 1; i <= n.courses; i++) {
      const drip = rnd() < 0.3;
      courseCohort.run(i, i, 1 + (i % n.cohorts), drip ? 1 : 0, drip ? int(7) : null, drip ? ts(90) : null, ts(30));
    }
    const milestone = insert('milestones', ['id', 'org_id', 'name', 'color', 'created_at', 'updated_at']);
    const courseMilestone = insert('course_milestones', ['id', 'course_id', 'milestone_id', 'ordering', 'created_at']);
    for (let i = 1; i <= n.milestones; i++) {
      const c = ts(30);
      milestone.run(i, 1 + (i % n.orgs), `Module ${i}`, pick(colors), c, c);
      courseMilestone.run(i, 1 + (i % n.courses), i, Math.floor(i / n.courses), c);
    }
    const task = insert('tasks', [
      'id',
      'org_id',
      'type',
      'blocks',
      'title',
      'status',
      'scheduled_publish_at',
      'created_at',
      'updated_at',
      'deleted_at',
    ]);
    const courseTask = insert('course_tasks', ['id', 'task_id', 'course_id', 'ordering', 'milestone_id', 'created_at']);
    for (let i = 1; i <= n.tasks; i++) {
      const c = ts(45);
      const blocks = JSON.stringify([{ type: 'paragraph', content: [{ type: 'text', text: `Read chapter ${i}` }] }]);
      task.run(
        i,
        1 + (i % n.orgs),
        pick(['learning_material', 'quiz', 'assignment']),
        blocks,
        `Task ${i}`,
        pick(['published', 'draft']),
        rnd() < 0.1 ? ts(90) : null,
        c,
        c,
        rnd() < 0.03 ? ts(60) : null,
      );
      courseTask.run(
        i,
        i,
        1 + (i % n.courses),
        Math.floor(i / n.courses),
        rnd() < 0.9 ? 1 + (i % n.milestones) : null,
        c,
      );
    }
    const question = insert('questions', [
      'id',
      'task_id',
      'type',
      'blocks',
      'answer',
      'input_type',
      'coding_language',
      'response_type',
      'position',
      'max_attempts',
      'is_feedback_shown',
      'context',
      'title',
      'created_at',
      'updated_at',
    ]);
    for (let i = 1; i <= n.questions; i++) {
      const c = ts(45);
      const coding = rnd() < 0.3;
      question.run(
        i,
        1 + (i % n.tasks),
        pick(['objective', 'subjective']),
        JSON.stringify([{ type: 'paragraph', text: `Question ${i}?` }]),
        rnd() < 0.5 ? JSON.stringify([{ type: 'paragraph', text: `Answer ${i}` }]) : null,
        coding ? 'code' : 'text',
        coding ? JSON.stringify([pick(['python', 'javascript', 'sql'])]) : null,
        pick(['chat', 'exam']),
        i % 5,
        rnd() < 0.5 ? int(3) : null,
        rnd() < 0.5 ? 1 : 0,
        rnd() < 0.2 ? JSON.stringify({ blocks: [], linkedMaterialIds: [int(n.tasks)] }) : null,
        `Q${i}`,
        c,
        c,
      );
    }
    const scorecard = insert('scorecards', ['id', 'org_id', 'title', 'criteria', 'status', 'created_at', 'updated_at']);
    const questionScorecard = insert('question_scorecards', ['id', 'question_id', 'scorecard_id', 'created_at']);
    for (let i = 1; i <= n.scorecards; i++) {
      const c = ts(30);
      scorecard.run(
        i,
        1 + (i % n.orgs),
        `Rubric ${i}`,
        JSON.stringify([
          { name: 'Clarity', min_score: 1, max_score: 4 },
          { name: 'Depth', min_score: 1, max_score: 4 },
        ]),
        rnd() < 0.2 ? null : 'published',
        c,
        c,
      );
    }
    for (let i = 1; i <= n.questions / 2; i++) questionScorecard.run(i, i * 2, 1 + (i % n.scorecards), ts(45));
    const chat = insert('chat_history', [
      'id',
      'user_id',
      'question_id',
      'role',
      'content',
      'response_type',
      'created_at',
    ]);
    const completion = insert('task_completions', ['id', 'user_id', 'task_id', 'question_id', 'created_at']);
    let t = BASE;
    for (let i = 1; i <= chatRows; i++) {
      t += Math.floor(rnd() * 4000);
      const userMsg = i % 2 === 1;
      chat.run(
        i,
        int(n.users),
        int(n.questions),
        userMsg ? 'user' : 'assistant',
        userMsg
          ? `My attempt ${i}: ${pick(names)} thinks the answer is ${int(100)}`
          : JSON.stringify({ feedback: `Good effort on step ${int(9)}`, correct: rnd() < 0.5 }),
        userMsg ? pick(['text', 'code', 'audio']) : null,
        sqliteTimestamp(t),
      );
      if (i % 10 === 0) {
        const onTask = rnd() < 0.5;
        completion.run(
          i / 10,
          int(n.users),
          onTask ? int(n.tasks) : null,
          onTask ? null : int(n.questions),
          sqliteTimestamp(t),
        );
      }
    }
    const courseJob = insert('course_generation_jobs', [
      'id',
      'uuid',
      'course_id',
      'status',
      'job_details',
      'created_at',
      'updated_at',
    ]);
    const taskJob = insert('task_generation_jobs', [
      'id',
      'uuid',
      'task_id',
      'course_id',
      'status',
      'job_details',
      'created_at',
      'updated_at',
    ]);
    for (let i = 1; i <= 40; i++) {
      const c = ts(45);
      const uuid = (k: number) =>
        `${((k * 2654435761) >>> 0).toString(16).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;
      courseJob.run(
        i,
        uuid(i),
        1 + (i % n.courses),
        pick(['pending', 'processing', 'completed', 'failed']),
        JSON.stringify({ prompt: `Make course ${i}`, files: [] }),
        c,
        c,
      );
      taskJob.run(
        i,
        uuid(i + 1000),
        1 + (i % n.tasks),
        1 + (i % n.courses),
        pick(['pending', 'completed', 'failed']),
        rnd() < 0.3 ? null : JSON.stringify({ model: 'gpt-4o', n: int(5) }),
        c,
        c,
      );
    }
    const apiKey = insert('org_api_keys', ['id', 'org_id', 'key', 'created_at']);
    for (let i = 1; i <= n.orgs * 2; i++)
      apiKey.run(i, 1 + (i % n.orgs), `sk-sample-${Math.floor(rnd() * 1e12).toString(36)}${i}`, ts(30));
    const draft = insert('code_drafts', ['id', 'user_id', 'question_id', 'code', 'created_at', 'updated_at']);
    for (let i = 1; i <= Math.min(n.users, 2000); i++) {
      const c = ts(60);
      draft.run(i, i, int(n.questions), JSON.stringify([{ language: 'python', value: `print(${i})` }]), c, c);
    }
  })();
  db.pragma(`user_version = ${chatRows}`);
  db.close();
  rmSync(file, { force: true });
  renameSync(tmp, file);
}
