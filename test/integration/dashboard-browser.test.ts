// The dashboard in a real browser (Debian's Chromium driven by playwright-core, no browser
// download), 1280 px wide: against a warehouse seeded by real runs — a learning-sample backfill and
// a learning-ROI run — every page loads with no console errors and no horizontal overflow, with a
// read token and with an admin token: pipelines (charts with legends, rates), runs (filters, backfill
// children grouped), a backfill's dates, a run (layered DAG whose edges cross no node, labels that
// fit, Gantt timeline, failures, rejects for admins), lineage, learning ROI; and every admin action
// (run, force, re-run failed nodes, backfill with its date count, pause/unpause) through the API.
// Screenshots go to .data/screenshots/ (LEARNSYNC_SCREENSHOTS=docs refreshes the committed ones in
// docs/dashboard/, so a test run never rewrites tracked files). Skipped, saying so, where no Chromium is installed.
import { existsSync, mkdirSync } from 'node:fs';
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
import { applySchedules } from '../../src/schedules/manage.js';
import { SCHEDULES } from '../../src/pipelines/schedules.js';
import { addDays, dayBefore } from '../../src/pipelines/dates.js';
import { startServeStack, type ServeStack } from '../support/serve-stack.js';

// Dates relative to today: the dashboard shows the last 30 days.
const LAST = dayBefore(Date.now());
const BEFORE_LAST = addDays(LAST, -1);
const FROM = addDays(LAST, -6);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT =
  process.env.LEARNSYNC_SCREENSHOTS === 'docs'
    ? path.join(projectRoot, 'docs', 'dashboard')
    : path.join(projectRoot, '.data', 'screenshots');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

let stack: ServeStack;
let browser: Browser;
let page: Page;
let runId: string;
let backfillId: string;
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
    backfillId = bf.body.workflowId;
    await Promise.all([
      stack.client.workflow.getHandle(bf.body.workflowId).result(),
      stack.client.workflow.getHandle(runId).result(),
    ]);
    await runAlerts({ warehouse: stack.db.warehouse, config: stack.config });
    // One declared schedule (02:00 UTC: it will not fire during the test) for the pause/unpause actions.
    await applySchedules(stack.client, stack.config.temporal.taskQueue, [SCHEDULES[0]!]);

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
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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
  const legend = (id: string) => page.locator(`canvas[data-chart="${id}"]`).getAttribute('data-legend');
  /** A fresh load of the page (the token stays in the tab's session storage). */
  const go = async (hash: string) => {
    await page.goto('about:blank');
    await page.goto(`${stack.server.url}/${hash}`);
    await ready();
  };
  const useToken = async (token: string) => {
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${stack.server.url}/`);
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await ready();
  };
  /** The page is no wider than the 1280 px viewport. */
  const noOverflow = () => page.evaluate(() => document.documentElement.scrollWidth);
  const shot = (name: string) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  /** Opens an action's confirmation, returns its text, confirms and returns the outcome text. */
  const act = async (scope: string, action: string) => {
    await page.locator(`${scope} button[data-action="${action}"]`).first().click();
    const question = await page.locator(`${scope} .confirm-text`).first().textContent();
    await page.locator(`${scope} button[data-confirm="${action}"]`).first().click();
    const out = page.locator(`${scope} [data-result]`).first();
    await out.waitFor();
    return { question, result: await out.textContent(), ok: (await out.getAttribute('data-result')) === 'ok' };
  };

  it('asks for a token once, then shows the pipelines with charts drawn from the warehouse', async () => {
    // A capture source as its consumer stores it: 60 MiB held with 15 MiB left before max_slot_wal_keep_size.
    await stack.db.warehouse.query(
      `INSERT INTO cdc_slot_state (source, slot_name, publication, applied_lsn, applied_commit_time, changes_applied,
                                   initial_copy_at, lag_seconds, lag_bytes, lag_measured_at, lag_alert_seconds,
                                   wal_status, safe_wal_bytes)
       VALUES ('oltp', 'learnsync_cdc', 'learnsync_cdc', '0/3A000F0', now(), 12345, now(), 0.4, 62914560, now(), 300,
               'extended', 15728640)`,
    );
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
    expect([await legend('success-chart'), await legend('rows-chart')]).toEqual(['shown', 'shown']);
    // The capture's card: position, lag, WAL held and its share of the limit, and why to act.
    const cdc = await page.locator('tr[data-cdc="oltp"]').textContent();
    expect(cdc).toMatch(/0\/3A000F0.*12345.*0\.4 s.*60 MiB.*80%/);
    expect(cdc).toMatch(/OPEN.*retains 80% of max_slot_wal_keep_size/);
    // A read token is offered no action.
    expect(await page.locator('button.action').count()).toBe(0);
    // One schedule format: the cron line is spelled like "every 15 min".
    expect(await page.locator('[data-schedule="learnsync-nightly"]').textContent()).toMatch(/^daily at 02:00 UTC/);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('pipelines-read');

    await page.reload();
    await ready();
    expect(await page.locator('#login').isVisible()).toBe(false); // kept in session storage
  });

  it('shows the success chart as a rate in percent', async () => {
    const rates = await page.evaluate(() => {
      const c = (
        window as unknown as { Chart: { getChart(id: string): { data: { datasets: { data: (number | null)[] }[] } } } }
      ).Chart.getChart('success-chart');
      return c.data.datasets[0]!.data;
    });
    expect(rates.filter((r) => r !== null).every((r) => r! >= 0 && r! <= 100)).toBe(true);
    expect(rates.filter((r) => r !== null).length).toBeGreaterThan(0);
  });

  it('draws a run as a layered DAG beside a timeline: edges cross no node, labels fit', async () => {
    await go(`#/runs/${encodeURIComponent(runId)}`);
    const states = await page
      .locator('svg.dag g[data-node]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.length).toBe(5);
    expect(new Set(states)).toEqual(new Set(['succeeded']));
    expect(await page.locator('svg.dag path.edge').count()).toBeGreaterThan(0);
    const geometry = await page.evaluate(() => {
      const svgEl = document.querySelector('svg.dag') as SVGSVGElement;
      const boxW = Number(svgEl.dataset.boxWidth);
      const rects = [...svgEl.querySelectorAll('g[data-node] rect')].map((r) => ({
        x: Number(r.getAttribute('x')),
        y: Number(r.getAttribute('y')),
        w: Number(r.getAttribute('width')),
        h: Number(r.getAttribute('height')),
      }));
      let hits = 0;
      for (const p of svgEl.querySelectorAll('path.edge') as NodeListOf<SVGPathElement>) {
        const len = p.getTotalLength();
        for (let d = 4; d < len - 4; d += 2) {
          const pt = p.getPointAtLength(d);
          if (rects.some((r) => pt.x > r.x + 1 && pt.x < r.x + r.w - 1 && pt.y > r.y + 1 && pt.y < r.y + r.h - 1))
            hits++;
        }
      }
      const widest = Math.max(
        ...[...svgEl.querySelectorAll('g[data-node] text')].map((t) => (t as SVGTextElement).getComputedTextLength()),
      );
      return { hits, widest, boxW };
    });
    expect(geometry.hits).toBe(0);
    expect(geometry.widest).toBeLessThanOrEqual(geometry.boxW - 8);
    expect(await page.locator('svg.gantt g[data-bar]').count()).toBe(5);
    expect(await page.locator('#dag + [data-legend]').textContent()).toContain('succeeded');
    expect(await page.locator('button[data-show-rejects]').count()).toBe(0); // read token: no rejects
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('run-read');
  });

  it('lays out the composite nightly DAG without an edge over a node', async () => {
    // The largest DAG: layouts are checked on the pipeline definition drawn by the lineage page too.
    await go('#/lineage?pipeline=nightly');
    const hits = await page.evaluate(() => {
      const svgEl = document.querySelector('#lineage-graph svg.dag') as SVGSVGElement;
      const rects = [...svgEl.querySelectorAll('g[data-node] rect')].map((r) => ({
        x: Number(r.getAttribute('x')),
        y: Number(r.getAttribute('y')),
        w: Number(r.getAttribute('width')),
        h: Number(r.getAttribute('height')),
      }));
      let n = 0;
      for (const p of svgEl.querySelectorAll('path.edge') as NodeListOf<SVGPathElement>) {
        const len = p.getTotalLength();
        for (let d = 4; d < len - 4; d += 3) {
          const pt = p.getPointAtLength(d);
          if (rects.some((r) => pt.x > r.x + 1 && pt.x < r.x + r.w - 1 && pt.y > r.y + 1 && pt.y < r.y + r.h - 1)) n++;
        }
      }
      return { n, edges: svgEl.querySelectorAll('path.edge').length };
    });
    expect(hits.edges).toBeGreaterThan(40);
    expect(hits.n).toBe(0);
  });

  it('shows lineage: datasets with their producers and freshness', async () => {
    await go('#/lineage?pipeline=learning-sample');
    const row = page.locator('tr[data-dataset="postgres://warehouse/mart.sample_daily_exam_stats"]');
    expect(await row.textContent()).toContain('aggregate_daily_exam_stats');
    expect(await row.locator('.badge').textContent()).toBe('fresh'); // written by the runs above
    expect(
      await page.locator('tr[data-dataset="postgres://warehouse/sample_source.exam_results"] .badge').textContent(),
    ).toBe('source');
    expect(await page.locator('#lineage-graph g[data-node]').count()).toBeGreaterThan(5);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('lineage');
  });

  it('lists runs with filters, backfill children grouped under their parent', async () => {
    await go('#/runs');
    const ids = await page
      .locator('table.runs tr[data-run]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run')!));
    const parentAt = ids.indexOf(backfillId);
    expect(parentAt).toBeGreaterThanOrEqual(0);
    // The six dates of the backfill follow it directly, indented.
    expect(ids.slice(parentAt + 1, parentAt + 7).every((id) => id.startsWith(`${backfillId}/`))).toBe(true);
    expect(await page.locator('tr.child').count()).toBe(6);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('runs');
    await page.selectOption('select[data-filter="state"]', 'failed');
    await page.click('#run-filters button[type=submit]');
    await page.waitForURL(/state=failed/);
    await ready();
    expect(await page.locator('table.runs tr[data-run]').count()).toBe(0);
    await go(`#/runs?date=${LAST}`);
    const dated = await page
      .locator('table.runs tr[data-run]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run')));
    expect(dated).toContain(runId);
    expect(dated).not.toContain(`${backfillId}/${FROM}`);
  });

  it('shows a backfill with one row per date: state, rows, link', async () => {
    await go(`#/runs/${encodeURIComponent(backfillId)}`);
    const rows = page.locator('table.backfill-dates tr[data-date]');
    expect(await rows.count()).toBe(6);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual(
      Array(6).fill('COMPLETED'),
    );
    const first = rows.first();
    expect(await first.getAttribute('data-date')).toBe(FROM);
    expect(Number((await first.locator('td.num').first().textContent())!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await first.locator('a').getAttribute('href')).toBe(`#/runs/${encodeURIComponent(`${backfillId}/${FROM}`)}`);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('backfill');
  });

  it('shows the learning-ROI views from the exported dashboard JSON', async () => {
    await go('#/learning-roi');
    expect(await points('fy-chart')).toBeGreaterThan(0);
    expect(await points('pass-chart')).toBeGreaterThan(0);
    expect(await points('before-after-chart')).toBeGreaterThan(0);
    expect(await points('segments-chart')).toBeGreaterThan(0);
    for (const id of ['fy-chart', 'pass-chart', 'before-after-chart', 'segments-chart'])
      expect(await legend(id)).toBe('shown');
    expect(await page.locator('section', { hasText: 'quality gates' }).locator('tr').count()).toBeGreaterThan(1);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('learning-roi');
  });

  it('admin token: rejects per node (reason counts and sample rows) and failures', async () => {
    await useToken(stack.admin);
    // A run whose ledger has rejects (the sample source plants a few invalid rows a day).
    const withRejected = await stack.db.warehouse.query<{ workflow_id: string; job: string; date: string }>(
      `SELECT workflow_id, job_name AS job, to_char(target_date, 'YYYY-MM-DD') AS date FROM etl_job_runs
        WHERE rows_rejected > 0 AND status = 'SUCCESS' AND pipeline = 'learning-sample' ORDER BY completed_at LIMIT 1`,
    );
    expect(withRejected.rows).toHaveLength(1);
    const { workflow_id: rejectRun, date: rejectDate } = withRejected.rows[0]!;
    await go(`#/runs/${encodeURIComponent(rejectRun)}`);
    const withRejects = page.locator('button[data-show-rejects]');
    expect(await withRejects.count()).toBeGreaterThan(0);
    const job = (await withRejects.first().getAttribute('data-show-rejects'))!;
    await withRejects.first().click();
    const box = page.locator(`[data-rejects="${job}"]`);
    await box.locator('table.reject-reasons').waitFor();
    const stored = await stack.db.warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM etl_rejects WHERE job_name = $1 AND target_date = $2',
      [job, rejectDate],
    );
    const shownCounts = await box
      .locator('table.reject-reasons td.num')
      .evaluateAll((els) => els.map((e) => Number(e.textContent!.replace(/,/g, ''))));
    expect(shownCounts.reduce((a, b) => a + b, 0)).toBe(stored.rows[0]!.n);
    expect(await box.locator('pre.samples').textContent()).toMatch(/: \{/);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('run-admin');
    // The API refuses the same rejects to a read token.
    expect((await stack.api('GET', `/api/dashboard/rejects?job=${job}&date=${rejectDate}`, stack.reader)).status).toBe(
      403,
    );
  });

  it('admin token: re-run failed nodes and force re-run start real runs', async () => {
    await go(`#/runs/${encodeURIComponent(runId)}`);
    const rerun = await act('section', 'rerun-failed');
    expect(rerun.question).toContain(`learning-sample for ${LAST}`);
    expect(rerun.ok).toBe(true);
    const id = (await page.locator('section [data-result] a').first().textContent())!;
    const res = await stack.client.workflow.getHandle(id).result();
    // Every node had succeeded: the ledger skips them all.
    expect(res.nodes.every((n: { state: string }) => n.state === 'skipped')).toBe(true);
    await go(`#/runs/${encodeURIComponent(runId)}`);
    const forced = await act('section', 'force');
    expect(forced.question).toContain('with force');
    expect(forced.ok).toBe(true);
    const forcedId = (await page.locator('section [data-result] a').first().textContent())!;
    const forcedRes = await stack.client.workflow.getHandle(forcedId).result();
    expect(forcedRes.nodes.every((n: { state: string }) => n.state === 'succeeded')).toBe(true);
  });

  it('admin token: backfill a range shows the date count before confirming', async () => {
    await go('#/');
    const row = 'tr[data-pipeline="learning-sample"]';
    await page.fill(`${row} input[data-field="from"]`, FROM);
    await page.fill(`${row} input[data-field="to"]`, BEFORE_LAST);
    const bf = await act(row, 'backfill');
    expect(bf.question).toContain(`for 6 dates (${FROM} … ${BEFORE_LAST})`);
    expect(bf.ok).toBe(true);
    const id = (await page.locator(`${row} [data-result] a`).textContent())!;
    const result = await stack.client.workflow.getHandle(id).result();
    expect(result.succeeded).toBe(6);
    expect(await noOverflow()).toBeLessThanOrEqual(1280);
    await shot('pipelines-admin');
  });

  it('admin token: pause and unpause a schedule', async () => {
    const sched = '[data-schedule="learnsync-nightly"]';
    const paused = await act(sched, 'pause');
    expect(paused.result).toBe('learnsync-nightly: paused');
    expect((await stack.client.schedule.getHandle('learnsync-nightly').describe()).state.paused).toBe(true);
    await go('#/');
    expect(await page.locator(sched).textContent()).toContain('paused');
    const resumed = await act(sched, 'unpause');
    expect(resumed.result).toBe('learnsync-nightly: running');
    expect((await stack.client.schedule.getHandle('learnsync-nightly').describe()).state.paused).toBe(false);
    await stack.client.schedule.getHandle('learnsync-nightly').delete();
  });

  it('logged no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
