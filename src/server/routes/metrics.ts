// GET /metrics on `learnsync serve`: learnsync's process-wide series (API requests, and the
// worker's job series when a worker runs in this process), plus gauges read from the warehouse
// at scrape time — freshness per job, standing row-drop alerts, open alerts per rule — so that
// Prometheus can alert on what the ledger knows even when no worker is up. Open like a probe.
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { listAlerts } from '../../pipelines/alerts/store.js';
import { ALL_RULES } from '../../pipelines/alerts/rules.js';
import { retryingByPipeline } from '../../runtime/retrying.js';
import { bounded } from '../../runtime/metrics.js';
import { METRICS_CONTENT_TYPE, metricsText } from '../../runtime/worker-metrics.js';
import { standingRowDropAlerts } from '../../runtime/ledger/row-drop-alerts.js';
import type { ServerDeps } from '../deps.js';
import { lastSuccessPerJob } from '../queries.js';

export function registerMetricsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const ledger = new Registry();
  const lastSuccess = new Gauge({
    name: 'learnsync_ledger_last_success_timestamp_seconds',
    help: 'Unix time of the last SUCCESS row of each job in the ledger (freshness)',
    labelNames: ['job', 'pipeline'] as const,
    registers: [ledger],
  });
  const rowDrops = new Gauge({
    name: 'learnsync_row_drop_alerts',
    help: "Jobs whose latest run processed far fewer rows than their 7-day median (the seed's row-drop alert)",
    labelNames: ['job'] as const,
    registers: [ledger],
  });
  const openAlerts = new Gauge({
    name: 'learnsync_alerts_open',
    help: 'Open incidents in the alerts table per rule',
    labelNames: ['rule'] as const,
    registers: [ledger],
  });
  const retryingNodes = new Gauge({
    name: 'learnsync_retrying_nodes',
    help:
      'Nodes of running runs retrying after a failure, by cause (database, network, source, timeout ' +
      "or the failure's type), from Temporal's pending activities",
    labelNames: ['cause', 'pipeline'] as const,
    registers: [ledger],
  });
  const refreshRetrying = async () => {
    const byPipeline = await retryingByPipeline(await deps.temporal(), { nodeIds: false });
    retryingNodes.reset();
    for (const [pipeline, list] of byPipeline)
      for (const r of list)
        retryingNodes.inc({ cause: bounded('cause', r.cause), pipeline: bounded('pipeline', pipeline) });
  };
  const refresh = async () => {
    const [fresh, drops, alerts] = await Promise.all([
      lastSuccessPerJob(deps.warehouse),
      standingRowDropAlerts(deps.warehouse, 500),
      listAlerts(deps.warehouse, { openOnly: true, limit: 1000 }),
    ]);
    lastSuccess.reset();
    for (const f of fresh)
      lastSuccess.set(
        { job: bounded('job', f.job), pipeline: bounded('pipeline', f.pipeline ?? 'none') },
        f.last_success.getTime() / 1000,
      );
    rowDrops.reset();
    for (const d of drops) rowDrops.inc({ job: bounded('job', d.job_name) });
    openAlerts.reset();
    for (const rule of ALL_RULES) openAlerts.set({ rule }, alerts.filter((a) => a.rule === rule).length);
  };

  app.get(
    '/metrics',
    { config: { access: 'open' }, schema: { summary: 'Prometheus metrics', tags: ['metrics'] } },
    async (req, reply) => {
      let text = await metricsText();
      // Temporal down: the gauge keeps its last values rather than claiming nothing retries.
      await refreshRetrying().catch((err: Error) =>
        req.log.warn({ err: err.message }, 'retrying-node gauge unavailable for this scrape'),
      );
      try {
        await refresh();
        text += `\n${await ledger.metrics()}`;
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'ledger gauges unavailable for this scrape');
      }
      return reply.type(METRICS_CONTENT_TYPE).send(text);
    },
  );
}
