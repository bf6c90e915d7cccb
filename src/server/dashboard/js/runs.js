// The run list: filters (pipeline and state go to the API; the date matches the target date or
// the start day) and a backfill's child runs grouped under it (their ids are <backfill>/<date>).
import { api, app, badge, fmtInt, fmtMs, fmtTime, h, runLink, section, table } from './lib.js';

const STATES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'];

function runRow(r, child) {
  return h(
    'tr',
    { 'data-run': r.workflowId, class: child ? 'child' : null },
    h(
      'td',
      { class: 'wrap' },
      child ? '↳ ' : '',
      runLink(r.workflowId, child ? (r.targetDate ?? r.workflowId) : r.workflowId),
    ),
    h('td', {}, r.pipeline ?? ''),
    h('td', {}, r.kind),
    h('td', {}, badge(r.status)),
    h('td', {}, r.targetDate ?? ''),
    h('td', {}, fmtTime(r.startTime)),
    h('td', { class: 'num' }, fmtMs(r.durationMs)),
    h('td', { class: 'num' }, fmtInt(r.rows)),
    h('td', { class: 'num' }, fmtInt(r.rejected)),
  );
}

export async function runsPage(params) {
  const q = new URLSearchParams({ limit: '200' });
  if (params.get('pipeline')) q.set('pipeline', params.get('pipeline'));
  if (params.get('state')) q.set('status', params.get('state'));
  const date = params.get('date') ?? '';
  const [{ pipelines }, { runs }] = await Promise.all([api('/api/pipelines'), api(`/api/runs?${q}`)]);
  const shown = runs.filter((r) => !date || r.targetDate === date || r.startTime.slice(0, 10) === date);
  const byId = new Map(shown.map((r) => [r.workflowId, r]));
  const children = new Map();
  const top = [];
  for (const r of shown) {
    const parent = r.workflowId.includes('/') ? r.workflowId.slice(0, r.workflowId.lastIndexOf('/')) : null;
    if (parent && byId.has(parent)) children.set(parent, [...(children.get(parent) ?? []), r]);
    else top.push(r);
  }
  const select = (name, options, value) =>
    h(
      'select',
      { name, 'data-filter': name },
      h('option', { value: '' }, `any ${name}`),
      options.map((o) => h('option', { value: o, selected: o === value ? 'selected' : null }, o)),
    );
  const form = h(
    'form',
    { class: 'filters', id: 'run-filters' },
    select(
      'pipeline',
      pipelines.map((p) => p.name),
      params.get('pipeline'),
    ),
    ' ',
    select('state', STATES, params.get('state')),
    ' ',
    h('input', { type: 'date', name: 'date', 'data-filter': 'date', value: date || null }),
    ' ',
    h('button', { type: 'submit' }, 'Filter'),
    ' ',
    h('a', { href: '#/runs' }, 'clear'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) next.set(k, String(v));
    location.hash = `#/runs?${next}`;
  });
  app.replaceChildren(
    section(
      `Runs (${shown.length})`,
      form,
      table(
        ['workflow', 'pipeline', 'kind', 'state', 'target', 'started', 'duration', 'rows', 'rejected'],
        top.flatMap((r) => [
          runRow(r, false),
          ...(children.get(r.workflowId) ?? [])
            .sort((a, b) => String(a.targetDate).localeCompare(String(b.targetDate)))
            .map((c) => runRow(c, true)),
        ]),
        { class: 'runs' },
      ),
    ),
  );
}
