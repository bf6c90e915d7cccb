// The dashboard: its page and scripts (open: they hold no data; Chart.js comes from node_modules,
// so it works offline) and the two JSON feeds it draws from (read tokens): the pipelines overview
// and the learning-ROI views built from the exported dashboard JSON.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildSyncStatus, roiOutputDir } from '../../pipelines/learning-roi/status.js';
import { listPipelines } from '../../pipelines/registry.js';
import { SCHEDULES } from '../../pipelines/schedules.js';
import { alertList } from '../../pipelines/alerts/view.js';
import { standingRowDropAlerts } from '../../runtime/ledger/row-drop-alerts.js';
import type { ServerDeps } from '../deps.js';
import { lastSuccessPerJob, rowsPerDay } from '../queries.js';
import { dailySuccessRate } from '../../runtime/ledger/success-rate.js';
import { readCaptureStatus } from '../../runtime/cdc/status.js';

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(here, 'dashboard', 'index.html'), type: 'text/html; charset=utf-8' },
  // One module per page (js/*.js), listed once at start-up: nothing else under js/ is served.
  ...Object.fromEntries(
    readdirSync(path.join(here, 'dashboard', 'js'))
      .filter((f) => /^[a-z-]+\.js$/.test(f))
      .map((f) => [
        `/assets/js/${f}`,
        { file: path.join(here, 'dashboard', 'js', f), type: 'text/javascript; charset=utf-8' },
      ]),
  ),
  '/assets/dashboard.css': { file: path.join(here, 'dashboard', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/assets/chart.umd.js': {
    file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};
export const ROI_VIEWS = [
  'certified_learners_by_fiscal_year',
  'pass_rate_by_exam_month',
  'usage_before_after_certification',
  'usage_certified_vs_not_yet_certified',
] as const;

/** Expected seconds between successes of a job, from its pipeline's schedule (nightly: a day). */
export function expectedIntervalSeconds(pipeline: string | null): number {
  const s = SCHEDULES.find((x) => x.pipeline === pipeline);
  const every = s?.every ? /^(\d+)([mh])$/.exec(s.every) : null;
  if (every) return Number(every[1]) * (every[2] === 'h' ? 3600 : 60);
  return 24 * 3600;
}

export function registerDashboardRoutes(app: FastifyInstance, deps: ServerDeps): void {
  for (const [url, asset] of Object.entries(ASSETS)) {
    app.get(url, { config: { access: 'open' }, schema: { hide: true } }, async (_req, reply) => {
      reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
          "connect-src 'self'; frame-ancestors 'none'",
      );
      return reply.type(asset.type).send(await readFile(asset.file));
    });
  }

  app.get(
    '/api/dashboard/overview',
    {
      config: { access: 'read' },
      schema: {
        summary: 'what the dashboard draws: success rate, rows per day, freshness, alerts, CDC captures',
        tags: ['dashboard'],
      },
    },
    async () => {
      const [rows, success, fresh, drops, alerts, cdc] = await Promise.all([
        rowsPerDay(deps.warehouse, 30),
        dailySuccessRate(deps.warehouse),
        lastSuccessPerJob(deps.warehouse),
        standingRowDropAlerts(deps.warehouse),
        alertList(deps.warehouse, { limit: 50 }),
        readCaptureStatus(deps.warehouse),
      ]);
      const now = Date.now();
      return {
        generatedAt: new Date(now).toISOString(),
        pipelines: listPipelines().map((p) => ({ name: p.name, kind: p.kind })),
        // Final attempts, as `status` (runtime/ledger/success-rate.ts); oldest first, `day` as before.
        successRate7d: success.map((d) => ({ day: d.date, ...d })).reverse(),
        rowsPerDay: rows,
        freshness: fresh.map((f) => {
          const age = Math.round((now - f.last_success.getTime()) / 1000);
          const expected = expectedIntervalSeconds(f.pipeline);
          return {
            job: f.job,
            pipeline: f.pipeline,
            lastSuccess: f.last_success.toISOString(),
            ageSeconds: age,
            expectedSeconds: expected,
            fresh: age <= expected * 1.5,
          };
        }),
        rowDropAlerts: drops.map((d) => ({ job: d.job_name, targetDate: d.target_date, alert: d.alert })),
        alerts,
        // Each change data capture source: position, lag, WAL held and its share of the source's limit.
        cdc,
      };
    },
  );

  app.get(
    '/api/dashboard/learning-roi',
    {
      config: { access: 'read' },
      schema: {
        summary: 'learning-ROI views (the exported dashboard JSON) with identity rate and quality gates',
        tags: ['dashboard'],
      },
    },
    async () => {
      const dir = path.join(roiOutputDir(deps.config.outputDir), 'aggregated');
      const views: Record<string, unknown> = {};
      for (const name of ROI_VIEWS) {
        try {
          views[name] = JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8'));
        } catch {
          views[name] = null; // not exported yet
        }
      }
      const status = await buildSyncStatus(deps.warehouse);
      return { views, gates: status.quality_gates };
    },
  );
}
