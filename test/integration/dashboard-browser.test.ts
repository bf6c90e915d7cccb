// The dashboard in a real browser (Debian's Chromium driven by playwright-core, no browser
// download): against a warehouse seeded by real runs — a learning-sample backfill and a
// learning-ROI run — the pages load with no console errors, the token is asked for once, the
// charts have data points, the run page draws the DAG with node states, and a screenshot of each
// page is written under test-output/dashboard/. Skipped, saying so, where no Chromium is installed.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/pipelines/alerts/activities.js';
import { seedSampleSource } from '../../src/pipelines/learning-sample/sample/source-data.js';
import { createActivities } from '../../src/activities/index.js';
import { createLogger } from '../../src/logging.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { learningRoi } from '../../src/pipelines/learning-roi/definition.js';
import type { NodeActivity } from '../../src/pipelines/types.js';
import { projectRoot } from '../support/temporal.js';
import { addDays, dayBefore } from '../../src/pipelines/dates.js';
import { startServeStack, type ServeStack } from '../support/serve-stack.js';

// Dates relative to today: the dashboard shows the last 30 days.
const LAST = dayBefore(Date.now());
const BEFORE_LAST = addDays(LAST, -1);
const FROM = addDays(LAST, -6);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.join(projectRoot, 'test-output', 'dashboard');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

let stack: ServeStack;
let browser: Browser;
let page: Page;
let runId: string;
const consoleErrors: string[] = [];

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    stack = await startServeStack({ LEARNING_ROI_SAMPLE_SCALE: '0.02', KUSTO_HISTORY_START: '2025-01-01' });
    await seedSampleSource(stack.db.oltp, { from: `${FROM}`, to: `${LAST}`, examsPerDay: 40, users: 80 });
    // The learning-ROI views come from that pipeline's jobs run into the same warehouse and output
    // folder, one after the other as `learnsync run-job` would.
    const acts = createActivities({
      warehouse: stack.db.warehouse,
      oltp: stack.db.oltp,
      outputDir: stack.config.outputDir,
      logger: createLogger({ level: 'silent' }),
      config: stack.config,
      sources: createSourceClients(stack.config),
    }) as unknown as Record<string, NodeActivity>;
    for (const n of learningRoi.nodes) {
      await acts[n.activity]!({
        pipeline: 'learning-roi',
        nodeId: n.id,
        targetDate: `${LAST}`,
        force: false,
        params: n.input ?? {},
      });
    }
    const bf = await stack.api('POST', '/api/pipelines/learning-sample/backfills', stack.admin, {
      from: `${FROM}`,
      to: `${BEFORE_LAST}`,
      concurrency: 3,
    });
    const run = await stack.api('POST', '/api/pipelines/learning-sample/runs', stack.admin, { date: `${LAST}` });
    expect([bf.status, run.status]).toEqual([202, 202]);
    runId = run.body.workflowId;
    await Promise.all([
      stack.client.workflow.getHandle(bf.body.workflowId).result(),
      stack.client.workflow.getHandle(runId).result(),
    ]);
    await runAlerts({ warehouse: stack.db.warehouse, config: stack.config });

    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // A fresh profile per run: playwright gives every context its own --user-data-dir.
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const ready = () => page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  const points = (id: string) => page.locator(`canvas[data-chart="${id}"]`).getAttribute('data-points').then(Number);

  it('asks for a token once, then shows the pipelines with charts drawn from the warehouse', async () => {
    await page.goto(`${stack.server.url}/`);
    expect(await page.locator('#login').isVisible()).toBe(true);
    await page.fill('#token', stack.reader);
    await page.click('#login button[type=submit]');
    await ready();
    expect(await page.locator('tr[data-pipeline="learning-sample"]').textContent()).toMatch(/SUCCESS/);
    expect(
      await page.locator('tr[data-pipeline="learning-sample"] a', { hasText: 'Web UI' }).getAttribute('href'),
    ).toMatch(/^http:/);
    expect(await points('success-chart')).toBeGreaterThan(0);
    expect(await points('rows-chart')).toBeGreaterThanOrEqual(7); // seven backfilled dates at least
    await page.screenshot({ path: path.join(OUT, 'pipelines.png'), fullPage: true });

    await page.reload();
    await ready();
    expect(await page.locator('#login').isVisible()).toBe(false); // kept in session storage
  });

  it('draws a run as a DAG with node states', async () => {
    await page.goto(`${stack.server.url}/#/runs/${encodeURIComponent(runId)}`);
    await page.waitForSelector('svg.dag g[data-node]');
    const states = await page
      .locator('svg.dag g[data-node]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.length).toBe(5);
    expect(new Set(states)).toEqual(new Set(['succeeded']));
    expect(await page.locator('svg.dag line').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(OUT, 'run.png'), fullPage: true });
    // A backfill's child run (its id has a '/') opens too.
    const child = (await stack.api('GET', '/api/runs?kind=run&limit=50', stack.reader)).body.runs.find(
      (r: { workflowId: string }) => r.workflowId.includes('/'),
    );
    await page.goto(`${stack.server.url}/#/runs/${encodeURIComponent(child.workflowId)}`);
    await page.waitForSelector('svg.dag g[data-node]');
  });

  it('shows the learning-ROI views from the exported dashboard JSON', async () => {
    await page.goto(`${stack.server.url}/#/learning-roi`);
    await ready();
    expect(await points('fy-chart')).toBeGreaterThan(0);
    expect(await points('pass-chart')).toBeGreaterThan(0);
    expect(await points('before-after-chart')).toBeGreaterThan(0);
    expect(await points('segments-chart')).toBeGreaterThan(0);
    expect(await page.locator('section', { hasText: 'quality gates' }).locator('tr').count()).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(OUT, 'learning-roi.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      copyFileSync(path.join(OUT, 'pipelines.png'), path.join(projectRoot, 'docs', 'dashboard.png'));
      copyFileSync(path.join(OUT, 'run.png'), path.join(projectRoot, 'docs', 'dashboard-run.png'));
    }
  });

  it('logged no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
