// The alerts pipeline's one activity: evaluate the rules, make the alerts table match, deliver
// what is owed. It writes no ledger row of its own (it watches the ledger, every 15 minutes,
// and would otherwise crowd the success rates it reports on).
import type { ActivityDeps } from '../../runtime/deps.js';
import type { NodeInput, NodeResult } from '../types.js';
import { deliverPending } from './notify.js';
import { ALL_RULES, evaluateRules, expectationsFor, type Expectation } from './rules.js';
import { reconcile } from './store.js';

export async function runAlerts(
  deps: Pick<ActivityDeps, 'warehouse' | 'config'>,
  opts: { now?: Date; expectations?: Expectation[]; backoffMs?: number } = {},
) {
  const now = opts.now ?? new Date();
  const findings = await evaluateRules(deps.warehouse, opts.expectations ?? expectationsFor(deps.config.alerting), now);
  const changes = await reconcile(deps.warehouse, findings, ALL_RULES);
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
