// `learnsync` end to end, in-process, against a real dev server, a worker with the real
// activities and real Postgres: bad input is refused before anything starts; run, backfill,
// status and schedules do what they print.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { main } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { freePort, type TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, startDevServer, Worker } from '../support/temporal.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { startSchoolApiServer } from '../../src/pipelines/school-api/sample/server.js';

let server: TemporalHandle;
let db: TestDatabases;
let client: Client;
let connection: Connection;
let worker: Worker;
let workerRun: Promise<void>;
const TASK_QUEUE = 'learnsync-cli-test';

beforeAll(async () => {
  [server, db] = await Promise.all([startDevServer(), createTestDatabases()]);
  await seedSampleSource(db.oltp, { from: '2026-05-01', to: '2026-05-05', examsPerDay: 60, users: 100 });
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    WAREHOUSE_DATABASE_URL: db.warehouseUrl,
    OLTP_DATABASE_URL: db.oltpUrl,
    LOG_LEVEL: 'error',
  });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  worker = await Worker.create({
    connection: native,
    taskQueue: TASK_QUEUE,
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: mkdtempSync(path.join(tmpdir(), 'cli-out-')),
      logger: createLogger({ level: 'silent' }),
      config: loadConfig({}),
      sources: createSourceClients(loadConfig({})),
    }),
    ...bundledWorkerOptions(),
  });
  workerRun = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await connection?.close();
  await db?.close();
  await server?.stop();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await main(argv, (l = '') => out.push(l));
    return { code, out: out.join('\n'), err: err.mock.calls.map((c) => c.join(' ')).join('\n') };
  } finally {
    err.mockRestore();
  }
}

async function workflowCount(): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list()) n++;
  return n;
}

describe('bad input: one clear line, exit 2, nothing started', () => {
  it.each([
    [['run', 'no-such-pipeline'], /unknown pipeline "no-such-pipeline": known pipelines are .*learning-sample/],
    [
      ['run', 'learning-sample', '--date', '2026-02-30'],
      /--date must be a calendar date as YYYY-MM-DD, got "2026-02-30"/,
    ],
    [['run', 'learning-sample', '--date', 'yesterday'], /--date must be a calendar date/],
    [['run', 'learning-sample-incremental', '--date', '2026-05-01'], /incremental and takes no --date/],
    [
      ['backfill', 'learning-sample', '--from', '2026-05-03', '--to', '2026-05-01'],
      /--from 2026-05-03 is after --to 2026-05-01/,
    ],
    [['backfill', 'learning-sample', '--from', '2026-05-01'], /--to YYYY-MM-DD is required/],
    [
      ['backfill', 'learning-sample', '--from', '2026-05-01', '--to', '2026-05-02', '--concurrency', '0'],
      /--concurrency must be a whole number/,
    ],
    [
      ['backfill', 'learning-sample-incremental', '--from', '2026-05-01', '--to', '2026-05-02'],
      /only dated pipelines can be backfilled/,
    ],
    [
      ['backfill', 'learning-sample', '--from', '1900-01-01', '--to', '2100-12-31'],
      /1900-01-01..2100-12-31 is 73,414 dates, over the maximum of 3,660 \(LEARNSYNC_BACKFILL_MAX_DATES\): check the range, or confirm with --max-dates 73414 or --yes/,
    ],
    [
      ['backfill', 'learning-sample', '--from', '2026-05-01', '--to', '2026-05-05', '--max-dates', '4'],
      /is 5 dates, over the maximum of 4/,
    ],
    [['run-job', 'no_such_job', '--date', '2026-05-01'], /unknown job "no_such_job"/],
    [
      ['run', 'learning-sample', '--colour'],
      /^learnsync run: unknown flag --colour: run takes --date, --force, --no-wait$/,
    ],
    [
      ['backfill', 'learning-sample', '--from', '2026-01-01', '--to', '2026-02-29'],
      /--to must be a calendar date as YYYY-MM-DD, got "2026-02-29": February 2026 has 28 days/,
    ],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['schedules', 'pause'], /schedules pause needs a schedule id/],
  ])('%j', async (argv, message) => {
    const before = await workflowCount();
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(message);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
    expect(await workflowCount()).toBe(before);
  });

  it('an unreachable server', async () => {
    const saved = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${await freePort()}`;
    try {
      const r = await cli('run', 'learning-sample', '--date', '2026-05-01');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /^learnsync run: cannot reach Temporal at TEMPORAL_ADDRESS=127\.0\.0\.1:\d+: start that server, or unset TEMPORAL_ADDRESS/,
      );
      expect(r.err.split('\n')).toHaveLength(1);
    } finally {
      process.env.TEMPORAL_ADDRESS = saved;
    }
  });
});

describe('unreachable or unauthorised servers: one line naming what to fix, exit 2, no stack, no secret', () => {
  async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(env))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  }
  const oneLine = (r: { code: number; err: string }, pattern: RegExp, secret: string) => {
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(pattern);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(r.err).not.toContain(secret);
  };

  it('a warehouse nobody listens on', async () => {
    const url = `postgres://learnsync:Pl4nted-Secret-1@127.0.0.1:${await freePort()}/warehouse`;
    const r = await withEnv({ WAREHOUSE_DATABASE_URL: url }, () => cli('status'));
    oneLine(
      r,
      /^learnsync status: cannot reach the warehouse at 127\.0\.0\.1:\d+\/warehouse \(ECONNREFUSED\): check WAREHOUSE_DATABASE_URL/,
      'Pl4nted-Secret-1',
    );
  });

  it('a warehouse that refuses the password', async () => {
    const url = new URL(db.warehouseUrl);
    url.password = 'Wr0ng-Password-2';
    const r = await withEnv({ WAREHOUSE_DATABASE_URL: url.toString() }, () => cli('status'));
    oneLine(
      r,
      /^learnsync status: the warehouse at 127\.0\.0\.1:\d+\/\w+ refused the login \(SQLSTATE 28P01\): check the user and password in WAREHOUSE_DATABASE_URL/,
      'Wr0ng-Password-2',
    );
  });

  it('plan against a source that refuses the credentials', async () => {
    const school = await startSchoolApiServer({});
    try {
      const r = await withEnv(
        {
          SCHOOL_API_URL: school.url,
          SCHOOL_API_CLIENT_ID: school.clientId,
          SCHOOL_API_CLIENT_SECRET: 'Wr0ng-Client-Secret-3',
          LOG_LEVEL: 'error',
        },
        () => cli('plan', 'school-api-nightly'),
      );
      oneLine(r, /^learnsync plan: .*(401|credential|client)/i, 'Wr0ng-Client-Secret-3');
    } finally {
      await school.close();
    }
  });

  it('an unexpected failure is one line too unless LOG_LEVEL=debug', async () => {
    const { describeFailure } = await import('../../src/cli/errors.js');
    const quiet = describeFailure('run', new Error('boom'), false);
    expect(quiet).toEqual({ exitCode: 1, lines: ['learnsync run: boom (LOG_LEVEL=debug shows the stack trace)'] });
    const loud = describeFailure('run', new Error('boom'), true);
    expect(loud.lines[1]).toMatch(/^Error: boom\n\s+at /);
  });
});

describe('commands against a live stack', () => {
  it('run prints every DAG node with its state and rows, and the result', async () => {
    const r = await cli('run', 'learning-sample', '--date', '2026-05-02');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/started learning-sample for 2026-05-02: workflow learnsync-learning-sample-2026-05-02/);
    for (const node of [
      'extract_exam_results',
      'extract_user_emails',
      'resolve_identities',
      'aggregate_daily_exam_stats',
      'load_dashboard',
    ]) {
      expect(r.out).toMatch(new RegExp(`✓ ${node} +succeeded +[\\d,]+`));
    }
    expect(r.out).toMatch(/✓ extract_exam_results +succeeded +60 /);
    expect(r.out).toMatch(/result: SUCCESS — [\d,]+ rows, \d+ rejected/);
    const again = await cli('run', 'learning-sample', '--date', '2026-05-02');
    expect(again.out).toMatch(/↷ extract_exam_results +skipped +0 /);
    const forced = await cli('run', 'learning-sample', '--date', '2026-05-02', '--force');
    expect(forced.out).toMatch(/✓ extract_exam_results +succeeded +60 /);
  });

  it('run --no-wait returns at once and says how to follow the run', async () => {
    const r = await cli('run', 'learning-sample-incremental', '--no-wait');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/temporal workflow describe -w learnsync-learning-sample-incremental-/);
  });

  it('run-job runs one node through the ledger', async () => {
    const r = await cli('run-job', 'extract_exam_results', '--date', '2026-05-04');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ extract_exam_results +succeeded +60 /);
  });

  it('backfill runs every date and reports them', async () => {
    const r = await cli(
      'backfill',
      'learning-sample',
      '--from',
      '2026-05-01',
      '--to',
      '2026-05-05',
      '--concurrency',
      '2',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/started backfill of learning-sample: 5 dates 2026-05-01..2026-05-05, 2 at a time/);
    expect(r.out).toMatch(/\] 5\/5 dates/);
    expect(r.out).toMatch(/result: SUCCESS — 5 dates/);
  });

  it('status --json: stable camelCase keys, a row per workflow run, SKIPPED runs counted, rates in %', async () => {
    // a backfill over dates already done: every job SKIPPED
    expect((await cli('backfill', 'learning-sample', '--from', '2026-05-01', '--to', '2026-05-02')).code).toBe(0);
    const r = await cli('status', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(Object.keys(s).sort()).toEqual(
      [
        'alerts',
        'dailySuccessRate',
        'recentRuns',
        'runningBackfillChildren',
        'runningWorkflows',
        'sections',
        'skippedRuns',
        'unreachable',
        'workerVersions',
      ].sort(),
    );
    expect(Array.isArray(s.workerVersions)).toBe(true);
    expect(Object.keys(s.sections).sort()).toEqual(['apiHits', 'appDb', 'cdc', 'learningRoi']);
    const keys = (o: object) => JSON.stringify(o).match(/"[^"]+":/g) ?? [];
    for (const k of keys(s)) expect(k).toMatch(/^"[a-z][A-Za-z0-9]*":$|^"[^"]*[ .@/-][^"]*":$/);
    const run = s.recentRuns.find(
      (x: { workflowId: string }) => x.workflowId === 'learnsync-learning-sample-2026-05-02',
    );
    expect(Object.keys(run).sort()).toEqual(
      [
        'kind',
        'dates',
        'durationMs',
        'error',
        'failedJobs',
        'jobs',
        'pipeline',
        'rejected',
        'rows',
        'startedAt',
        'state',
        'targetDate',
        'workflowId',
        'runId',
      ].sort(),
    );
    expect(run).toMatchObject({ pipeline: 'learning-sample', targetDate: '2026-05-02', state: 'SUCCESS', jobs: 5 });
    expect(run.runId).toMatch(/^[0-9a-f-]{36}$/); // one row per Temporal run
    // a backfill is one row, not one per date
    const backfills = s.recentRuns.filter((x: { kind: string }) => x.kind === 'backfill');
    expect(backfills).toEqual([
      expect.objectContaining({
        workflowId: 'learnsync-backfill-learning-sample-2026-05-01-2026-05-05',
        targetDate: '2026-05-01..2026-05-05',
        dates: 5,
        state: 'SUCCESS',
      }),
    ]);
    expect(s.recentRuns.some((x: { workflowId: string }) => x.workflowId.includes('/'))).toBe(false);
    // runs that only skipped — the backfill, and the unforced second run of 2026-05-02 (its own
    // Temporal run under the same workflow id) — counted, not listed
    expect(s.skippedRuns).toBe(2);
    const runsOf0502 = s.recentRuns.filter(
      (x: { workflowId: string }) => x.workflowId === 'learnsync-learning-sample-2026-05-02',
    );
    expect(runsOf0502).toHaveLength(2); // the first run and the forced one: one row per run
    expect(new Set(runsOf0502.map((x: { runId: string }) => x.runId)).size).toBe(2);
    expect(s.recentRuns.every((x: { state: string }) => x.state !== 'SKIPPED')).toBe(true);
    const today = s.dailySuccessRate[0];
    expect(Object.keys(today).sort()).toEqual([
      'date',
      'failed',
      'failedAttempts',
      'jobs',
      'skipped',
      'succeeded',
      'successRatePercent',
    ]);
    expect(today.successRatePercent).toBe(100);
    expect(s.unreachable).toEqual({});
    const text = await cli('status');
    expect(text.out).toMatch(/Workflow runs \(last 7 days; \d+ more runs had only SKIPPED jobs/);
    expect(text.out).toMatch(/learning-sample +2026-05-02 +✓ SUCCESS/);
    expect(text.out).toMatch(/Daily job success rate/);
    expect(text.out).toMatch(/100\.0%/);
  });

  it('status with Temporal unreachable says so in one line and still shows the ledger', async () => {
    const saved = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${await freePort()}`;
    try {
      const r = await cli('status');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^learnsync status: cannot reach Temporal at TEMPORAL_ADDRESS=127\.0\.0\.1:\d+/);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.out).toMatch(/Workflow runs/);
      expect(r.out).not.toMatch(/Running workflows/);
      const j = JSON.parse((await cli('status', '--json')).out);
      expect(j.unreachable.temporal).toMatch(/cannot reach Temporal/);
      expect(j.runningWorkflows).toBeNull();
      expect(j.recentRuns.length).toBeGreaterThan(0);
    } finally {
      process.env.TEMPORAL_ADDRESS = saved;
    }
  });

  it('a namespace that does not exist: one clean line naming the ones that do', async () => {
    process.env.TEMPORAL_NAMESPACE = 'nosuchns';
    try {
      const r = await cli('run', 'learning-sample', '--date', '2026-05-01');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /^learnsync run: namespace "nosuchns" does not exist on Temporal at .*: set TEMPORAL_NAMESPACE to one of .*default/,
      );
      expect(r.err.split('\n')).toHaveLength(1);
      const s = await cli('status');
      expect(s.err).toMatch(/^learnsync status: namespace "nosuchns" does not exist/);
      expect(s.out).toMatch(/Workflow runs/);
    } finally {
      delete process.env.TEMPORAL_NAMESPACE;
    }
  });

  it('schedules apply twice changes nothing the second time; pause, trigger, delete', async () => {
    const first = await cli('schedules', 'apply');
    expect(first.out).toMatch(/learnsync-nightly +created/);
    const second = await cli('schedules', 'apply');
    expect(second.out).toMatch(/nothing changed/);
    expect(second.out).not.toMatch(/created|updated/);
    expect((await cli('schedules', 'pause', 'learnsync-nightly')).out).toBe('learnsync-nightly: paused');
    expect((await client.schedule.getHandle('learnsync-nightly').describe()).state.paused).toBe(true);
    expect((await cli('schedules', 'unpause', 'learnsync-nightly')).code).toBe(0);
    expect((await cli('schedules', 'delete', 'learnsync-nightly')).code).toBe(0);
    const gone = await cli('schedules', 'trigger', 'learnsync-nightly');
    expect(gone.code).toBe(2);
    expect(gone.err).toMatch(/no schedule "learnsync-nightly"/);
  });
});
