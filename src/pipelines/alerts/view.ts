// The one alert list every reader shows — `status` (text and JSON), GET /api/alerts and the
// dashboard's overview — so they cannot disagree: rows of the alerts table, open first, camelCase.
import type { Pool } from '../../connectors/postgres.js';
import { listAlerts } from './store.js';

export interface AlertView {
  id: number;
  rule: string;
  subject: string;
  pipeline: string | null;
  severity: string;
  message: string;
  openedAt: string;
  resolvedAt: string | null;
  notified: boolean;
}

export async function alertList(db: Pool, opts: { openOnly?: boolean; limit?: number } = {}): Promise<AlertView[]> {
  const rows = await listAlerts(db, opts);
  return rows.map((a) => ({
    id: Number(a.id),
    rule: a.rule,
    subject: a.subject,
    pipeline: a.pipeline,
    severity: a.severity,
    message: a.message,
    openedAt: a.opened_at.toISOString(),
    resolvedAt: a.resolved_at?.toISOString() ?? null,
    notified: a.notified_at !== null,
  }));
}
