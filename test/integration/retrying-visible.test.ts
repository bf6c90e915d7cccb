// A failing source never looks like a hang: with the school API pointed at a closed port, the
// node's last failure (message, attempt, next retry, give-up time) shows in the run follower,
// `status --json`, the API (run and pipelines routes), the dashboard (in Chromium) and /metrics within
// one retry, read from Temporal's pending-activity info while the activity keeps retrying through its
// outage window.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/client.js';
import { watchPipelineRun } from '../../src/cli/watch-run.js';
import type { StatusReport } from '../../src/cli/status-report.js';
import type { RetryingNode } from '../../src/runtime/retrying.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { startServeStack, type ServeStack } from '../support/serve-stack.js';

let stack: ServeStack;
let closed: number;
const PIPELINE = 'school-api-incremental';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

beforeAll(async () => {
  closed = await freePort(); // free now and nobody listens: connection refused
  stack = await startServeStack({
    SCHOOL_API_URL: `http://127.0.0.1:${closed}/v2`,
    SCHOOL_API_TOKEN_URL: `http://127.0.0.1:${closed}/oauth/token`,
    SCHOOL_API_CLIENT_ID: 'client',
    SCHOOL_API_CLIENT_SECRET: 'not-a-real-secret',
    SCHOOL_API_MAX_RETRIES: '1',
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('shows the failure text in the follower, status --json, the API and /metrics within one retry', async () => {
  const started = await stack.api('POST', `/api/pipelines/${PIPELINE}/runs`, stack.admin, {});
  expect(started.status).toBe(202);
  const workflowId: string = started.body.workflowId;
  const handle = stack.client.workflow.getHandle<typeof runPipeline>(workflowId);
  try {
    // The follower prints the failed attempt as soon as Temporal records it (the first retry is 1 s later).
    const lines: string[] = [];
    let stop!: () => void;
    const interrupted = new Promise<void>((r) => (stop = r));
    const deadline = setTimeout(stop, 60_000);
    const followed = watchPipelineRun(
      handle,
      (l = '') => {
        lines.push(l);
        if (/⟳ .*unreachable after 2 attempts/.test(l)) stop();
      },
      { interrupted, intervalMs: 200 },
    );
    const end = await followed;
    clearTimeout(deadline);
    expect(end.end).toBe('interrupted');
    const failureLine = lines.find((l) => l.includes('⟳'));
    expect(failureLine).toMatch(
      /school_\w+ retrying \(attempt \d+, .*gives up .*UTC\): .*unreachable after 2 attempts/,
    );
    expect(failureLine).not.toContain('not-a-real-secret');

    // status --json: a retrying list on the running run, same message, attempt and give-up time.
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: stack.config.temporal.address,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
      WAREHOUSE_DATABASE_URL: stack.db.warehouseUrl,
      LOG_LEVEL: 'error',
    });
    const out: string[] = [];
    expect(await main(['status', '--json'], (l = '') => out.push(l))).toBe(0);
    const report = JSON.parse(out.join('\n')) as StatusReport;
    const run = report.runningWorkflows!.find((w) => w.workflowId === workflowId)!;
    expect(run.retrying).toHaveLength(1);
    const fromStatus = run.retrying[0]!;
    expect(fromStatus.lastFailure).toContain('unreachable after 2 attempts');
    expect(fromStatus.nodeId).toMatch(/^school_/);
    expect(fromStatus.attempt).toBeGreaterThanOrEqual(2);
    expect(Date.parse(fromStatus.givesUpAt!)).toBeGreaterThan(Date.now());
    expect(fromStatus.cause).toMatch(/^(network|source)$/);

    // status (text): under the running run, the same node, attempt and failure.
    const text: string[] = [];
    expect(await main(['status'], (l = '') => text.push(l))).toBe(0);
    expect(text.join('\n')).toMatch(
      new RegExp(`⟳ ${fromStatus.nodeId} retrying \\(attempt \\d+, .*\\): .*unreachable after 2 attempts`),
    );

    // The API: the run (list and per node) and the pipelines route.
    const shown = await stack.api('GET', `/api/runs/${encodeURIComponent(workflowId)}`, stack.reader);
    expect(shown.status).toBe(200);
    const apiRetry = shown.body.retrying as RetryingNode[];
    expect(apiRetry.map((r) => [r.nodeId, r.lastFailure])).toEqual([[fromStatus.nodeId, fromStatus.lastFailure]]);
    const node = shown.body.dag.nodes.find((n: { id: string }) => n.id === fromStatus.nodeId);
    expect(node.retrying.lastFailure).toContain('unreachable after 2 attempts');
    const listed = await stack.api('GET', '/api/runs?status=running', stack.reader);
    const inList = listed.body.runs.find((r: { workflowId: string }) => r.workflowId === workflowId);
    expect(inList.retrying.map((r: RetryingNode) => r.lastFailure)).toEqual([fromStatus.lastFailure]);
    const pipelines = await stack.api('GET', '/api/pipelines', stack.reader);
    const p = pipelines.body.pipelines.find((x: { name: string }) => x.name === PIPELINE);
    expect(p.retrying.map((r: RetryingNode) => r.lastFailure)).toEqual([fromStatus.lastFailure]);

    // The dashboard's run page, in a real browser: the node's retry line with the same failure.
    if (existsSync(CHROMIUM)) {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(`${stack.server.url}/`);
        await page.fill('#token', stack.reader);
        await page.click('#login button[type=submit]');
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        await page.goto('about:blank');
        await page.goto(`${stack.server.url}/#/runs/${encodeURIComponent(workflowId)}`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        const body = (await page.textContent('body')) ?? '';
        expect(body).toMatch(/retrying: attempt \d+.*unreachable after 2 attempts/);
        expect(body).not.toContain('not-a-real-secret');
      } finally {
        await browser.close();
      }
    } else console.warn(`retrying test: dashboard part skipped, no Chromium at ${CHROMIUM}`);

    // /metrics: one retrying node, by cause.
    const metrics = await stack.api('GET', '/metrics');
    expect(metrics.body).toMatch(
      new RegExp(`learnsync_retrying_nodes\\{cause="${fromStatus.cause}",pipeline="${PIPELINE}"\\} 1`),
    );
  } finally {
    await handle.terminate('test over').catch(() => {});
  }
}, 120_000);
