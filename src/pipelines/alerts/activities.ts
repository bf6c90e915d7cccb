// The alerts pipeline's one activity: evaluate the rules, make the alerts table match, deliver
// what is owed. It writes no ledger row of its own (it watches the ledger, every 15 minutes,
// and would otherwise crowd the success rates it reports on).
import { ScheduleNotFoundError } from '@temporalio/client';
import { activityContext } from '../../runtime/activity-context.js';
import { SCHEDULES } from '../schedules.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { retryingByPipeline, type RetryingNode } from '../../runtime/retrying.js';
import type { NodeInput, NodeResult } from '../types.js';
import { deliverPending } from './notify.js';
import { ALL_RULES, evaluateRules, expectationsFor, type Expectation } from './rules.js';
import { reconcile } from './store.js';

/** Running runs' retrying nodes by pipeline, through the activity's Temporal client; undefined outside
 * a worker or when Temporal cannot say (then standing `retrying` alerts are left as they are). */
async function currentRetries(): Promise<Map<string, RetryingNode[]> | undefined> {
  const ctx = activityContext();
  if (!ctx) return undefined;
  try {
    return await retryingByPipeline(ctx.client);
  } catch {
    return undefined;
  }
}

/** When each pipeline's schedule began (its earliest Temporal schedule's creation), through the
 * activity's client. A pipeline with no schedule in Temporal is never due: it gets no expectation. */
async function withScheduleStarts(expectations: Expectation[]): Promise<Expectation[]> {
  const ctx = activityContext();
  if (!ctx) return expectations;
  const out: Expectation[] = [];
  for (const e of expectations) {
    const starts: Date[] = [];
    for (const s of SCHEDULES.filter((x) => x.pipeline === e.def.name)) {
      try {
        starts.push((await ctx.client.schedule.getHandle(s.id).describe()).info.createdAt);
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) return expectations; // Temporal cannot say: judge all
      }
    }
    if (starts.length) out.push({ ...e, scheduledSince: new Date(Math.min(...starts.map((d) => d.getTime()))) });
  }
  return out;
}

export async function runAlerts(
  deps: Pick<ActivityDeps, 'warehouse' | 'config'>,
  opts: { now?: Date; expectations?: Expectation[]; backoffMs?: number; retrying?: Map<string, RetryingNode[]> } = {},
) {
  const now = opts.now ?? new Date();
  const byPipeline = opts.retrying ?? (await currentRetries());
  const findings = await evaluateRules(
    deps.warehouse,
    opts.expectations ?? (await withScheduleStarts(expectationsFor(deps.config.alerting))),
    now,
    byPipeline && { byPipeline, afterMs: deps.config.alerting.retryingAfterMs },
  );
  const rules = byPipeline ? ALL_RULES : ALL_RULES.filter((r) => r !== 'retrying');
  const changes = await reconcile(deps.warehouse, findings, rules);
  const sent = await deliverPending(deps.warehouse, deps.config.alerting, {
    backoffMs: opts.backoffMs ?? Math.round(500 * deps.config.apiBackoffScale),
  });
  return { findings, ...changes, ...sent };
}

export function createAlertActivities(deps: Pick<ActivityDeps, 'warehouse' | 'config' | 'logger'>) {
  return {
    async evaluateAlerts(_input: NodeInput): Promise<NodeResult> {
      const r = await runAlerts(deps);
      deps.logger.info(
        { open: r.open, opened: r.opened, resolved: r.resolved, delivered: r.delivered, failed: r.failed },
        'alerts evaluated',
      );
      return {
        rows: r.open,
        detail: {
          open: r.open,
          opened: r.opened,
          resolved: r.resolved,
          delivered: r.delivered,
          deliveryFailures: r.failed,
        },
      };
    },
  };
}
