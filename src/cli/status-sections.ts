// Sections of `learnsync status`, beyond the ledger and running workflows. Each pipeline family
// may add one (API hits, sync_status.json, alerts …). `json` feeds `status --json`.
import { standingRowDropAlerts } from '../runtime/ledger/row-drop-alerts.js';
import { apiHitsSection } from '../runtime/ledger/api-hits-status.js';
import { learningRoiStatusSection } from '../pipelines/learning-roi/status.js';
import { appDbStatusSection } from '../pipelines/app-db/status.js';
import { cdcStatusSection } from '../runtime/cdc/status.js';
import type { StatusSection } from '../runtime/status-section.js';

export type { StatusSection } from '../runtime/status-section.js';

/** Jobs whose latest successful run processed far fewer rows than their 7-day median (LEARNSYNC_ROWS_DROP_ALERT). */
const rowDropAlerts: StatusSection = {
  title: 'Row-count alerts (latest runs, last 7 days)',
  async render(ctx) {
    const rows = await standingRowDropAlerts(await ctx.warehouse());
    if (!rows.length) return ['none'];
    return rows.map((r) => `${r.job_name.padEnd(34)} ${(r.target_date ?? 'undated').padEnd(10)}  ${r.alert}`);
  },
  async json(ctx) {
    return standingRowDropAlerts(await ctx.warehouse());
  },
};

// The alerts table is not a section: it is `alerts`, at the top of status (one list, alerts/view.ts).
export const STATUS_SECTIONS: StatusSection[] = [
  rowDropAlerts,
  apiHitsSection,
  learningRoiStatusSection,
  appDbStatusSection,
  cdcStatusSection,
];

/** The stable key of each section in `status --json`, whatever its display title says. */
const JSON_KEYS = new Map<StatusSection, string>([
  [rowDropAlerts, 'rowDropAlerts'],
  [apiHitsSection, 'apiHits'],
  [learningRoiStatusSection, 'learningRoi'],
  [appDbStatusSection, 'appDb'],
  [cdcStatusSection, 'cdc'],
]);

export function statusSectionKey(section: StatusSection): string {
  return (
    JSON_KEYS.get(section) ??
    section.title
      .replace(/\(.*\)/g, '')
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())
  );
}
