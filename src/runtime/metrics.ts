// learnsync's own Prometheus series (prom-client), shared by the worker and `learnsync serve`.
// Labels are only ever job, pipeline, source, endpoint templates and outcomes — finite sets — never
// dates, e-mails, ids or free text, so the series count stays bounded however long it runs.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
// prom-client's default names already start with process_ or nodejs_: the prefix adds only
// learnsync_ (learnsync_process_cpu_seconds_total, not learnsync_process_process_…).
collectDefaultMetrics({ register: metricsRegistry, prefix: 'learnsync_' });

export const jobRows = new Counter({
  name: 'learnsync_job_rows_total',
  help: 'Rows per job: read (processed), loaded (read − rejected) and rejected',
  labelNames: ['pipeline', 'job', 'kind'] as const,
  registers: [metricsRegistry],
});

export const jobDuration = new Histogram({
  name: 'learnsync_job_duration_seconds',
  help: 'Wall time of job attempts that finished (succeeded, skipped or failed)',
  labelNames: ['pipeline', 'job', 'outcome'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

export const ledgerRuns = new Counter({
  name: 'learnsync_ledger_runs_total',
  help: 'Job attempts by the status the ledger recorded: SUCCESS, SKIPPED or FAILED',
  labelNames: ['pipeline', 'job', 'status'] as const,
  registers: [metricsRegistry],
});

export const jobLastSuccess = new Gauge({
  name: 'learnsync_job_last_success_timestamp_seconds',
  help: 'Unix time of the last successful run of each job (freshness)',
  labelNames: ['job'] as const,
  registers: [metricsRegistry],
});

export const apiCalls = new Counter({
  name: 'learnsync_api_calls_total',
  help: 'Calls to source APIs per endpoint template and outcome (ok, cache_hit, retry, throttled, error)',
  labelNames: ['source', 'endpoint', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const liveReads = new Counter({
  name: 'learnsync_live_reads_total',
  help: 'Learner exam-history reads by where the answer came from: kusto (live), cache, or warehouse (fallback)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const httpRequests = new Counter({
  name: 'learnsync_http_requests_total',
  help: 'Requests answered by learnsync serve, per route template, method and status class',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [metricsRegistry],
});

const MAX_LABEL_VALUES = 500;
const seen = new Map<string, Set<string>>();

/** Caps the distinct values one label may take; the rest are counted as "other". */
export function bounded(label: string, value: string | undefined): string {
  const v = (value ?? 'none').slice(0, 100);
  let set = seen.get(label);
  if (!set) seen.set(label, (set = new Set()));
  if (set.has(v)) return v;
  if (set.size >= MAX_LABEL_VALUES) return 'other';
  set.add(v);
  return v;
}

/** Numbers in a path (ids, dates) become ":n", so an endpoint is a template, not a URL. */
export function endpointTemplate(endpoint: string): string {
  return endpoint
    .split('?')[0]!
    .replace(/\/\d[\w.-]*/g, '/:n')
    .slice(0, 100);
}
