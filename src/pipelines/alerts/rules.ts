// The four alert rules of seed 004 (and issue 12), each a query over the ledger that returns the
// incidents standing now: (a) a pipeline that has not succeeded within its expected window,
// (b) a job whose latest finished attempt failed, (c) a row drop against the 7-day median,
// (d) a quality gate whose latest check failed; and (e) a node retrying too long, (f) CDC behind.
import { readCaptureStatus, WAL_RETAINED_ALERT_SHARE } from '../../runtime/cdc/status.js';
import type { AlertingConfig } from '../../config.js';
import { retryingText, type RetryingNode } from '../../runtime/retrying.js';
import type { Pool } from '../../connectors/postgres.js';
import { standingRowDropAlerts } from '../../runtime/ledger/row-drop-alerts.js';
import { dayBefore } from '../dates.js';
import { getPipeline } from '../registry.js';
import { SCHEDULES } from '../schedules.js';
import type { PipelineDefinition } from '../types.js';
import type { AlertRule, Finding } from './store.js';

export const ALL_RULES: readonly AlertRule[] = [
  'overdue',
  'failed_job',
  'row_drop',
  'quality_gate',
  'retrying',
  'cdc_lag',
];

/** When a pipeline must have succeeded: nightly by a UTC time for yesterday, incremental within a span. */
export type Expectation = {
  def: PipelineDefinition;
  /** When the pipeline's schedule began (created in Temporal); undefined: unknown, judged as always scheduled. */
  scheduledSince?: Date;
} & ({ kind: 'nightly'; deadlineMinutes: number } | { kind: 'incremental'; withinSeconds: number });

/** The first five names, and an ellipsis when there are more. */
const listed = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;

const span = (v: string) => Number(v.slice(0, -1)) * (v.endsWith('h') ? 3600 : 60);

/** One expectation per scheduled pipeline, from the schedules and ALERT_* configuration. */
export function expectationsFor(config: AlertingConfig): Expectation[] {
  const out: Expectation[] = [];
  for (const s of SCHEDULES) {
    const def = getPipeline(s.pipeline);
    if (!def || def.name === 'alerts' || out.some((e) => e.def.name === def.name)) continue;
    const override = config.expectedWindows[def.name];
    if (def.kind === 'nightly') {
      const [h, m] = (override && override.includes(':') ? override : '').split(':').map(Number);
      out.push({
        def,
        kind: 'nightly',
        deadlineMinutes: override?.includes(':') ? h! * 60 + m! : config.nightlyDeadlineMinutes,
      });
    } else {
      // Cron-scheduled incremental pipelines have no interval to multiply: a day is their window.
      const interval = s.every ? span(s.every) : 24 * 3600;
      out.push({
        def,
        kind: 'incremental',
        withinSeconds: override && !override.includes(':') ? span(override) : interval * config.incrementalIntervals,
      });
    }
  }
  return out;
}

async function overdue(db: Pool, expectations: Expectation[], now: Date): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const e of expectations) {
    const jobs = e.def.nodes.map((n) => n.id);
    if (e.kind === 'nightly') {
      const minutes = now.getUTCHours() * 60 + now.getUTCMinutes();
      // Before today's deadline the run for yesterday may still be going: judge the day before.
      const target = minutes >= e.deadlineMinutes ? dayBefore(now.getTime()) : dayBefore(now.getTime() - 86_400_000);
      // A schedule created after the day its run for `target` fires had no chance to run it yet.
      if (e.scheduledSince && e.scheduledSince.getTime() > Date.parse(`${target}T00:00:00Z`) + 86_400_000) continue;
      // A success for the target or a later date means the pipeline is on time (a run just done counts).
      const { rows } = await db.query<{ job_name: string }>(
        `SELECT DISTINCT job_name FROM etl_job_runs
          WHERE job_name = ANY($1) AND target_date >= $2 AND status IN ('SUCCESS', 'SKIPPED')`,
        [jobs, target],
      );
      const missing = jobs.filter((j) => !rows.some((r) => r.job_name === j));
      if (missing.length) {
        const hh = String(Math.floor(e.deadlineMinutes / 60)).padStart(2, '0');
        const mm = String(e.deadlineMinutes % 60).padStart(2, '0');
        findings.push({
          rule: 'overdue',
          subject: e.def.name,
          pipeline: e.def.name,
          severity: 'critical',
          message:
            `${e.def.name} has not completed for ${target} by ${hh}:${mm} UTC: ` +
            `${missing.length} of ${jobs.length} jobs without a success (${listed(missing)})`,
        });
      }
    } else {
      // Not yet one window since the schedule began: it has not had the time to be late.
      if (e.scheduledSince && now.getTime() - e.scheduledSince.getTime() < e.withinSeconds * 1000) continue;
      const { rows } = await db.query<{ job_name: string; last: Date }>(
        `SELECT job_name, max(completed_at) AS last FROM etl_job_runs
          WHERE job_name = ANY($1) AND status = 'SUCCESS' GROUP BY job_name`,
        [jobs],
      );
      const since = now.getTime() - e.withinSeconds * 1000;
      const minutes = Math.round(e.withinSeconds / 60);
      const late = jobs.filter((j) => !rows.some((r) => r.job_name === j && r.last.getTime() >= since));
      if (late.length) {
        findings.push({
          rule: 'overdue',
          subject: e.def.name,
          pipeline: e.def.name,
          severity: 'warning',
          message: `${e.def.name} has not succeeded in the last ${minutes} minutes: ${listed(late)}`,
        });
      }
    }
  }
  return findings;
}

async function failedJobs(db: Pool): Promise<Finding[]> {
  const { rows } = await db.query<{
    job_name: string;
    pipeline: string | null;
    target_date: string | null;
    error_message: string | null;
    attempt: number | null;
  }>(
    `SELECT job_name, pipeline, to_char(target_date, 'YYYY-MM-DD') AS target_date, error_message, attempt
       FROM (SELECT DISTINCT ON (job_name) * FROM etl_job_runs
              WHERE status IN ('SUCCESS', 'FAILED') AND started_at >= now() - interval '7 days'
              ORDER BY job_name, started_at DESC) latest
      WHERE status = 'FAILED'`,
  );
  return rows.map((r) => ({
    rule: 'failed_job',
    subject: r.job_name,
    pipeline: r.pipeline ?? undefined,
    severity: 'critical',
    message:
      `job ${r.job_name}${r.target_date ? ` for ${r.target_date}` : ''} failed` +
      `${r.attempt ? ` (attempt ${r.attempt})` : ''}: ${(r.error_message ?? 'no message').slice(0, 300)}`,
  }));
}

async function rowDrops(db: Pool): Promise<Finding[]> {
  const rows = await standingRowDropAlerts(db, 200);
  return rows.map((r) => ({
    rule: 'row_drop',
    subject: `${r.job_name}${r.target_date ? `@${r.target_date}` : ''}`,
    pipeline: r.pipeline ?? undefined,
    severity: 'warning',
    message: `job ${r.job_name}${r.target_date ? ` for ${r.target_date}` : ''}: ${r.alert}`,
  }));
}

async function failedGates(db: Pool): Promise<Finding[]> {
  const { rows } = await db.query<{
    pipeline: string;
    gate: string;
    observed: number | null;
    expected: string;
    note: string;
    target_date: string | null;
  }>(
    `SELECT pipeline, gate, observed, expected, note, to_char(target_date, 'YYYY-MM-DD') AS target_date
       FROM (SELECT DISTINCT ON (pipeline, gate) * FROM etl_quality_gates WHERE checked_at >= now() - interval '7 days'
              ORDER BY pipeline, gate, checked_at DESC) latest
      WHERE status = 'fail'`,
  );
  return rows.map((r) => ({
    rule: 'quality_gate',
    subject: `${r.pipeline}:${r.gate}`,
    pipeline: r.pipeline,
    severity: 'critical',
    message:
      `quality gate ${r.gate} of ${r.pipeline}${r.target_date ? ` for ${r.target_date}` : ''} failed: ` +
      `observed ${r.observed ?? 'nothing'}, expected ${r.expected}${r.note ? ` — ${r.note}` : ''}`,
  }));
}

/** No lag measurement for this long: the capture is not running while its slot keeps WAL on the source. */
export const CDC_STALE_SECONDS = 600;

/**
 * (f) Change data capture behind or abandoned: the applied changes' lag over the threshold the
 * consumer ran with (WAREHOUSE_CDC_LAG_ALERT_SECONDS), or no measurement for CDC_STALE_SECONDS —
 * a stopped capture whose slot holds WAL on the source until its disk fills — or retained WAL near
 * the source's max_slot_wal_keep_size, past which Postgres invalidates the slot (critical).
 */
async function cdcLag(db: Pool, now: Date): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const r of await readCaptureStatus(db)) {
    const measured = r.lagMeasuredAt ?? r.initialCopyAt;
    const silentFor = measured ? (now.getTime() - Date.parse(measured)) / 1000 : Infinity;
    const held = r.lagBytes === null ? '' : ` (the slot holds ${Math.round(r.lagBytes / 1048576)} MB of WAL)`;
    if (silentFor > CDC_STALE_SECONDS) {
      findings.push({
        rule: 'cdc_lag',
        subject: r.source,
        severity: 'critical',
        message:
          `CDC of ${r.source} has not run for ${Math.round(silentFor / 60)} min while slot ${r.slot} ` +
          `keeps WAL on the source${held}: \`learnsync cdc start ${r.source}\`, ` +
          `or \`learnsync cdc drop-slot ${r.source}\` if abandoned`,
      });
    } else if (r.walRetainedShare !== null && r.walRetainedShare >= WAL_RETAINED_ALERT_SHARE) {
      findings.push({
        rule: 'cdc_lag',
        subject: r.source,
        severity: 'critical',
        message: `CDC of ${r.source}: ${r.alert}`,
      });
    } else if (r.lagSeconds !== null && r.lagSeconds > (r.lagAlertSeconds ?? 300)) {
      findings.push({
        rule: 'cdc_lag',
        subject: r.source,
        severity: 'warning',
        message:
          `CDC of ${r.source} is ${Math.round(r.lagSeconds)} s behind its source (over ` +
          `WAREHOUSE_CDC_LAG_ALERT_SECONDS=${r.lagAlertSeconds ?? 300})${held}`,
      });
    }
  }
  return findings;
}

/** (e) A node of a running run that has been retrying longer than `afterMs`: a dead source, not a slow one. */
export function retryingTooLong(retrying: Map<string, RetryingNode[]>, afterMs: number, now: Date): Finding[] {
  const findings: Finding[] = [];
  for (const [pipeline, nodes] of retrying) {
    for (const r of nodes) {
      const since = r.retryingSince ? Date.parse(r.retryingSince) : undefined;
      if (since === undefined || now.getTime() - since < afterMs) continue;
      findings.push({
        rule: 'retrying',
        subject: `${r.workflowId}:${r.nodeId ?? r.activity}`,
        pipeline,
        severity: 'critical',
        message:
          `${pipeline} has been retrying for ${Math.round((now.getTime() - since) / 60_000)} min: ` +
          retryingText(r, now.getTime()),
      });
    }
  }
  return findings;
}

export async function evaluateRules(
  db: Pool,
  expectations: Expectation[],
  now: Date,
  retrying?: { byPipeline: Map<string, RetryingNode[]>; afterMs: number },
): Promise<Finding[]> {
  const all = await Promise.all([
    overdue(db, expectations, now),
    failedJobs(db),
    rowDrops(db),
    failedGates(db),
    cdcLag(db, now),
  ]);
  return [...all.flat(), ...(retrying ? retryingTooLong(retrying.byPipeline, retrying.afterMs, now) : [])];
}
