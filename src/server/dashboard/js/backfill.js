// A backfill: its progress and one row per date of its range — the child run's state, rows and
// link, or "pending" for a date not started yet.
import { api, badge, fmtInt, fmtMs, h, runLink, section, table } from './lib.js';

function datesOf(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`) && out.length < 5000; t += 86400000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export async function backfillSection(run) {
  const b = run.backfill;
  const { runs } = await api(
    `/api/runs?kind=run&limit=200${run.pipeline ? `&pipeline=${encodeURIComponent(run.pipeline)}` : ''}`,
  );
  const children = new Map(
    runs
      .filter((r) => r.workflowId.startsWith(`${run.workflowId}/`))
      .map((r) => [r.workflowId.slice(run.workflowId.length + 1), r]),
  );
  const dates = b ? datesOf(b.from, b.to) : [...children.keys()].sort();
  const failed = new Set(b?.failed ?? []);
  const running = new Set(b?.running ?? []);
  return [
    section(
      'Backfill',
      b
        ? h(
            'p',
            { 'data-backfill-summary': '' },
            `${b.done}/${b.total} dates ${b.from} … ${b.to}: ${b.succeeded} succeeded, ${b.failed.length} failed, ${fmtInt(b.rows)} rows`,
          )
        : h(
            'p',
            { class: 'muted' },
            'The backfill has finished or no worker answered its progress query: dates from its child runs.',
          ),
    ),
    section(
      `Dates (${dates.length})`,
      table(
        ['date', 'state', 'rows', 'rejected', 'duration', 'run'],
        dates.map((d) => {
          const c = children.get(d);
          const state = c ? c.status : failed.has(d) ? 'FAILED' : running.has(d) ? 'RUNNING' : 'pending';
          return h(
            'tr',
            { 'data-date': d, 'data-state': state },
            h('td', {}, d),
            h('td', {}, badge(state)),
            h('td', { class: 'num' }, c ? fmtInt(c.rows) : ''),
            h('td', { class: 'num' }, c ? fmtInt(c.rejected) : ''),
            h('td', { class: 'num' }, c ? fmtMs(c.durationMs) : ''),
            h('td', {}, c ? runLink(c.workflowId, 'run') : ''),
          );
        }),
        { class: 'backfill-dates' },
      ),
    ),
  ];
}
