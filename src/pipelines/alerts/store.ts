// The alerts table: one row per incident (rule + subject). Opening is idempotent (an open incident
// is only touched), resolving closes it, and the notifier works off the rows that still owe a
// message — so a retry or a second evaluator never sends twice.
import { redactSecrets } from '../../secrets.js';
import type { Pool } from '../../connectors/postgres.js';

export type AlertRule = 'overdue' | 'failed_job' | 'row_drop' | 'quality_gate' | 'retrying' | 'cdc_lag';

export interface Finding {
  rule: AlertRule;
  /** What the incident is about: a job or pipeline name, with a target date where one matters. */
  subject: string;
  pipeline?: string;
  severity: 'warning' | 'critical';
  message: string;
}

export interface AlertRow {
  id: number;
  rule: AlertRule;
  subject: string;
  pipeline: string | null;
  severity: string;
  message: string;
  opened_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  notified_at: Date | null;
  resolved_notified_at: Date | null;
  notify_attempts: number;
  last_notify_error: string | null;
}

/** Makes the open incidents match the findings: new ones opened, gone ones resolved. Returns the counts. */
export async function reconcile(
  db: Pool,
  findings: Finding[],
  rules: readonly AlertRule[],
): Promise<{ opened: number; resolved: number; open: number }> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('learnsync:alerts'))`);
    let opened = 0;
    for (const f of findings) {
      const r = await client.query(
        `INSERT INTO alerts (rule, subject, pipeline, severity, message) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (rule, subject) WHERE resolved_at IS NULL
         DO UPDATE SET last_seen_at = now(), message = EXCLUDED.message
         RETURNING (xmax = 0) AS inserted`,
        [f.rule, f.subject.slice(0, 200), f.pipeline ?? null, f.severity, f.message],
      );
      if (r.rows[0]?.inserted) opened++;
    }
    const keys = findings.map((f) => `${f.rule}|${f.subject.slice(0, 200)}`);
    const resolved = await client.query(
      `UPDATE alerts SET resolved_at = now()
        WHERE resolved_at IS NULL AND rule = ANY($1) AND NOT (rule || '|' || subject = ANY($2))`,
      [rules, keys],
    );
    await client.query('COMMIT');
    return { opened, resolved: resolved.rowCount ?? 0, open: findings.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export async function listAlerts(db: Pool, opts: { openOnly?: boolean; limit?: number } = {}): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT * FROM alerts WHERE ($1::boolean IS NOT TRUE OR resolved_at IS NULL)
      ORDER BY resolved_at IS NULL DESC, opened_at DESC LIMIT $2`,
    [opts.openOnly ?? false, opts.limit ?? 100],
  );
  return rows;
}

/** Incidents that owe a message: opened and not yet announced, or resolved and not yet announced as such. */
export async function pendingNotifications(db: Pool): Promise<Array<AlertRow & { event: 'opened' | 'resolved' }>> {
  const { rows } = await db.query<AlertRow & { event: 'opened' | 'resolved' }>(
    `SELECT *, CASE WHEN notified_at IS NULL THEN 'opened' ELSE 'resolved' END AS event FROM alerts
      WHERE notified_at IS NULL OR (resolved_at IS NOT NULL AND resolved_notified_at IS NULL)
      ORDER BY id LIMIT 200`,
  );
  return rows;
}

export async function markNotified(db: Pool, id: number, event: 'opened' | 'resolved', error?: string): Promise<void> {
  if (error) {
    await db.query('UPDATE alerts SET notify_attempts = notify_attempts + 1, last_notify_error = $2 WHERE id = $1', [
      id,
      // Stored and shown by `status`: through the one masking function (a fetch error names its URL).
      redactSecrets(error).slice(0, 1000),
    ]);
    return;
  }
  // An incident opened and resolved between two evaluations is announced once, as resolved.
  await db.query(
    event === 'opened'
      ? 'UPDATE alerts SET notified_at = now(), last_notify_error = NULL WHERE id = $1'
      : `UPDATE alerts SET notified_at = coalesce(notified_at, now()), resolved_notified_at = now(),
           last_notify_error = NULL WHERE id = $1`,
    [id],
  );
}
