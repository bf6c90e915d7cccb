// Delivers alert events to the configured webhooks: a Slack-compatible incoming webhook
// ({ text }) and a generic JSON POST ({ event, alert }). Each delivery is retried with backoff;
// an incident is marked announced only when every webhook took it, so a failed delivery is
// tried again by the next evaluation rather than lost.
import type { AlertingConfig } from '../../config.js';
import type { Pool } from '../../connectors/postgres.js';
import { markNotified, pendingNotifications, type AlertRow } from './store.js';

export interface AlertEvent {
  event: 'opened' | 'resolved';
  alert: {
    id: number;
    rule: string;
    subject: string;
    pipeline: string | null;
    severity: string;
    message: string;
    openedAt: string;
    resolvedAt: string | null;
  };
  dashboardUrl?: string;
}

function toEvent(row: AlertRow, event: 'opened' | 'resolved', dashboardUrl?: string): AlertEvent {
  return {
    event,
    alert: {
      id: Number(row.id),
      rule: row.rule,
      subject: row.subject,
      pipeline: row.pipeline,
      severity: row.severity,
      message: row.message,
      openedAt: row.opened_at.toISOString(),
      resolvedAt: row.resolved_at?.toISOString() ?? null,
    },
    ...(dashboardUrl ? { dashboardUrl } : {}),
  };
}

export function slackPayload(e: AlertEvent): { text: string } {
  const icon =
    e.event === 'resolved' ? ':white_check_mark:' : e.alert.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const head =
    e.event === 'resolved'
      ? `Resolved: ${e.alert.rule.replace('_', ' ')} — ${e.alert.subject}`
      : `${e.alert.rule.replace('_', ' ')} — ${e.alert.subject}`;
  return {
    text: `${icon} *learnsync* ${head}\n${e.alert.message}${e.dashboardUrl ? `\n<${e.dashboardUrl}|dashboard>` : ''}`,
  };
}

async function post(url: string, body: unknown, retries: number, backoffMs: number): Promise<void> {
  let last: Error | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
      // A wrong URL or payload: retrying will not help.
      if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
    } catch (err) {
      last = err as Error;
    }
  }
  // Never the URL itself: an incoming-webhook URL is a secret.
  throw new Error(`webhook delivery failed after ${retries + 1} attempts: ${last?.message ?? 'unknown error'}`);
}

/** Sends every event still owed; returns how many were delivered and how many must wait for the next evaluation. */
export async function deliverPending(
  db: Pool,
  config: AlertingConfig,
  opts: { backoffMs?: number; dashboardUrl?: string } = {},
): Promise<{ delivered: number; failed: number }> {
  if (!config.webhooks.length) return { delivered: 0, failed: 0 };
  let delivered = 0;
  let failed = 0;
  for (const row of await pendingNotifications(db)) {
    const event = toEvent(row, row.event, opts.dashboardUrl);
    const results = await Promise.allSettled(
      config.webhooks.map((w) =>
        post(w.url, w.kind === 'slack' ? slackPayload(event) : event, config.retries, opts.backoffMs ?? 500),
      ),
    );
    const errors = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason as Error).message);
    await markNotified(db, Number(row.id), row.event, errors.length ? errors.join('; ') : undefined);
    if (errors.length) failed++;
    else delivered++;
  }
  return { delivered, failed };
}
