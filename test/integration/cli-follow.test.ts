// Following runs from the CLI, end to end against a dev server and a worker with the real
// activities: Ctrl-C on `backfill` (a real process, signalled as a terminal does) prints the command
// that follows it again and exits 130 while the backfill goes on; `run` of a pipeline already
// running follows that run; every activity of a run carries its node id as its Web UI summary;
// the dev feed prints runs as they start and end; an invalid backfill range names the wrong date.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { main } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import type { TemporalHandle } from '../../src/stack/temporal-dev-server.js';
import { startRunFeed } from '../../src/cli/run-feed.js';
import { backfillPipeline } from '../../src/workflows/backfill.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, projectRoot, startDevServer, Worker } from '../support/temporal.js';

let server: TemporalHandle;
let db: TestDatabases;
let client: Client;
let connection: Connection;
let worker: Worker;
let workerRun: Promise<void>;
const TASK_QUEUE = 'learnsync-cli-follow';

beforeAll(async () => {
  [server, db] = await Promise.all([startDevServer(), createTestDatabases()]);
  await seedSampleSource(db.oltp, { from: '2026-07-01', to: '2026-07-03', examsPerDay: 40, users: 60 });
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    WAREHOUSE_DATABASE_URL: db.warehouseUrl,
    OLTP_DATABASE_URL: db.oltpUrl,
    LOG_LEVEL: 'error',
  });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: TASK_QUEUE,
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: mkdtempSync(path.join(tmpdir(), 'cli-follow-')),
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
  const code = await main(argv, (l = '') => out.push(l));
  return { code, out: out.join('\n') };
}

it('Ctrl-C on backfill prints one line that follows it again, exits 130 and leaves it running', async () => {
  // No worker polls this queue: the backfill runs until we end it, whatever the machine's speed.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/client.ts', 'backfill', 'learning-sample', '--from', '2026-07-01', '--to', '2026-07-03'],
    {
      cwd: projectRoot,
      env: { ...process.env, TEMPORAL_TASK_QUEUE: 'nobody-polls-this' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const workflowId = 'learnsync-backfill-learning-sample-2026-07-01-2026-07-03';
  try {
    for (let i = 0; i < 300 && !out.includes('started backfill'); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000)); // following, not starting
    expect(out).toMatch(/started backfill of learning-sample: 3 dates/);
    const before = out.length;
    const signalled = Date.now();
    process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
    expect(await exited).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(5000); // at once, though its progress query waits for a worker
    const after = out.slice(before).trim().split('\n');
    expect(after).toHaveLength(1);
    const temporal = path.join(projectRoot, '.tools', 'venv', 'bin', 'temporal');
    expect(after[0]).toBe(
      `the backfill is still running in Temporal; follow it again with ` +
        `\`npm run learnsync -- backfill learning-sample --from 2026-07-01 --to 2026-07-03\` or ` +
        `\`${temporal} workflow describe -w ${workflowId} --address ${server.address} --namespace default\``,
    );
    const handle = client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // The printed temporal command runs as printed.
    const describe = after[0]!.split('`')[3]!;
    const { stdout } = await promisify(execFile)('sh', ['-c', describe], { cwd: tmpdir() });
    expect(stdout).toContain(workflowId);
    await handle.terminate('test over');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('SIGTERM on run prints the follow commands, exits 143 and leaves the run running', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/client.ts', 'run', 'learning-sample', '--date', '2026-07-01'],
    {
      cwd: projectRoot,
      env: { ...process.env, TEMPORAL_TASK_QUEUE: 'nobody-polls-this' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const workflowId = 'learnsync-learning-sample-2026-07-01';
  try {
    for (let i = 0; i < 300 && !out.includes('started learning-sample'); i++)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const before = out.length;
    const signalled = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(Date.now() - signalled).toBeLessThan(5000);
    const after = out.slice(before).trim().split('\n');
    expect(after).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${workflowId} is still running in Temporal; follow it again with ` +
            '`npm run learnsync -- run learning-sample --date 2026-07-01` or ' +
            '`\\S+/\\.tools/venv/bin/temporal workflow describe',
        ),
      ),
    ]);
    const handle = client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test over');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('run of a pipeline that is already running follows that run', async () => {
  const workflowId = 'learnsync-learning-sample-2026-07-02';
  // Delayed start: the run exists (and blocks a second start) before its first task runs.
  const started = await client.workflow.start(runPipeline, {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ pipeline: 'learning-sample', targetDate: '2026-07-02' }],
    startDelay: '2 seconds',
  });
  const r = await cli('run', 'learning-sample', '--date', '2026-07-02');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(
    /learning-sample for 2026-07-02 is already running: following workflow learnsync-learning-sample-2026-07-02/,
  );
  expect(r.out).toMatch(/✓ extract_exam_results +succeeded +40 /);
  expect(r.out).toMatch(/result: SUCCESS/);
  const runs = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(wf.runId);
  expect(runs).toEqual([started.firstExecutionRunId]);
});

it("a run's history names every activity by its node id, and the run has a summary", async () => {
  const r = await cli('run', 'learning-sample', '--date', '2026-07-03');
  expect(r.code).toBe(0);
  const handle = client.workflow.getHandle('learnsync-learning-sample-2026-07-03');
  const history = await handle.fetchHistory();
  const summaries = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
  expect(summaries.sort()).toEqual(
    [
      'aggregate_daily_exam_stats',
      'extract_exam_results',
      'extract_user_emails',
      'load_dashboard',
      'resolve_identities',
    ].sort(),
  );
  expect(await (await handle.describe()).staticSummary()).toBe('learning-sample for 2026-07-03');
});

it('the dev feed prints one line per run start, finish and failure, with its Web UI link', async () => {
  const lines: string[] = [];
  const stop = startRunFeed(client, {
    print: (l) => lines.push(l),
    uiUrl: 'http://ui.test',
    namespace: 'default',
    everyMs: 200,
  });
  try {
    expect((await cli('run', 'learning-sample', '--date', '2026-07-01')).code).toBe(0);
    const failed = await client.workflow.start(runPipeline, {
      taskQueue: TASK_QUEUE,
      workflowId: 'feed-unknown-pipeline',
      args: [{ pipeline: 'no-such-pipeline' }],
    });
    await failed.result().catch(() => {});
    for (let i = 0; i < 50 && !lines.some((l) => l.includes('FAILED')); i++)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    await stop();
  }
  const url = 'http://ui.test/namespaces/default/workflows/learnsync-learning-sample-2026-07-01';
  expect(lines.filter((l) => l.includes(url))).toEqual([
    expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ▸ learning-sample 2026-07-01 started  ${url}$`)),
    expect.stringMatching(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d ✓ learning-sample 2026-07-01 succeeded in \\d+ s  ${url}$`),
    ),
  ]);
  expect(lines.filter((l) => l.includes('feed-unknown-pipeline')).at(-1)).toMatch(/✗ runPipeline FAILED in \d+ s/);
});

it('the dev feed prints one start and one end for a backfill that continues as new, timed from its start', async () => {
  const lines: string[] = [];
  const stop = startRunFeed(client, { print: (l) => lines.push(l), namespace: 'default', everyMs: 100 });
  const workflowId = 'feed-backfill-continues';
  try {
    const handle = await client.workflow.start(backfillPipeline, {
      taskQueue: TASK_QUEUE,
      workflowId,
      // 3 dates, 1 child per run: two continue-as-new.
      args: [
        { pipeline: 'learning-sample', from: '2026-07-01', to: '2026-07-03', concurrency: 1, maxChildrenPerRun: 1 },
      ],
    });
    const result = await handle.result();
    expect(result.continuedAsNew).toBe(2);
    for (let i = 0; i < 50 && !lines.some((l) => l.includes(workflowId) && l.includes('succeeded')); i++)
      await new Promise((r) => setTimeout(r, 100));
  } finally {
    await stop();
  }
  const mine = lines.filter((l) => l.includes(workflowId));
  expect(mine).toEqual([
    expect.stringMatching(/▸ backfill of \w+ started  feed-backfill-continues$/),
    expect.stringMatching(/✓ backfill of \w+ succeeded in \d+ s  feed-backfill-continues$/),
  ]);
  // Timed from the first run's start: at least as long as the whole execution chain.
  const first = await client.workflow.list({ query: `WorkflowId = "${workflowId}"` });
  const runs: Array<{ start: number; close: number }> = [];
  for await (const w of first) runs.push({ start: w.startTime.getTime(), close: w.closeTime?.getTime() ?? 0 });
  const whole = Math.max(...runs.map((r) => r.close)) - Math.min(...runs.map((r) => r.start));
  const shown = Number(/in (\d+) s/.exec(mine[1]!)![1]);
  expect(Math.abs(shown * 1000 - whole)).toBeLessThanOrEqual(1000);
});

it('a backfill started with an invalid range fails naming the wrong date and why', async () => {
  const err = await client.workflow
    .execute(backfillPipeline, {
      taskQueue: TASK_QUEUE,
      workflowId: 'invalid-range',
      args: [{ pipeline: 'learning-sample', from: '2026-01-01', to: '2026-02-29' }],
    })
    .catch((e: WorkflowFailedError) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.message).toBe(
    'invalid range 2026-01-01..2026-02-29: to "2026-02-29" is not a calendar date (February 2026 has 28 days)',
  );
});
