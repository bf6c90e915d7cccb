// Admin actions, through the same API the CLI's peers use: every action asks for a confirmation
// that says exactly what will happen (a backfill shows its date count first), then shows the API's
// answer — the started run's link, or the error as the API worded it.
import { api, h, runLink } from './lib.js';

/** A button that opens an inline confirmation; `describe` says what will happen, `perform` does it. */
export function actionButton(label, describe, perform, attrs = {}) {
  const out = h('span', { class: 'action-out' });
  const button = h('button', { type: 'button', class: 'action', 'data-action': attrs.action ?? label }, label);
  button.addEventListener('click', async () => {
    let text;
    try {
      text = await describe();
    } catch (err) {
      out.replaceChildren(h('span', { class: 'error' }, err.message));
      return;
    }
    const yes = h('button', { type: 'button', class: 'confirm', 'data-confirm': attrs.action ?? label }, 'Confirm');
    const no = h('button', { type: 'button' }, 'Cancel');
    out.replaceChildren(h('span', { class: 'confirm-text' }, text, ' '), yes, ' ', no);
    no.addEventListener('click', () => out.replaceChildren());
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        const result = await perform();
        out.replaceChildren(h('span', { class: 'ok', 'data-result': 'ok' }, result));
      } catch (err) {
        out.replaceChildren(h('span', { class: 'error', 'data-result': 'error' }, err.message));
      }
    });
  });
  return h('span', { class: 'action-box' }, button, ' ', out);
}

const started = (body) =>
  body.workflowId ? ['started ', runLink(body.workflowId)] : [JSON.stringify(body).slice(0, 200)];

export const startRun = (pipeline, body) =>
  api(`/api/pipelines/${encodeURIComponent(pipeline)}/runs`, { method: 'POST', body: JSON.stringify(body) }).then((b) =>
    h('span', {}, started(b)),
  );

export const startBackfill = (pipeline, body) =>
  api(`/api/pipelines/${encodeURIComponent(pipeline)}/backfills`, {
    method: 'POST',
    body: JSON.stringify(body),
  }).then((b) => h('span', {}, started(b)));

export const scheduleAction = (id, action) =>
  api(`/api/schedules/${encodeURIComponent(id)}/${action}`, { method: 'POST' }).then((b) =>
    h('span', {}, `${id}: ${b.paused ? 'paused' : 'running'}`),
  );

/** Dates from..to inclusive (YYYY-MM-DD), or an error naming what is wrong. */
export function dateCount(from, to) {
  const re = /^\d{4}-\d{2}-\d{2}$/;
  if (!re.test(from) || !re.test(to)) throw new Error('both dates are needed, as YYYY-MM-DD');
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1;
  if (!(days >= 1)) throw new Error(`"to" (${to}) is before "from" (${from})`);
  return days;
}

/** The backfill form: two dates and force; the confirmation names the date count. */
export function backfillForm(pipeline) {
  const from = h('input', { type: 'date', 'data-field': 'from', 'aria-label': 'from' });
  const to = h('input', { type: 'date', 'data-field': 'to', 'aria-label': 'to' });
  const force = h('input', { type: 'checkbox', 'data-field': 'force' });
  return h(
    'span',
    { class: 'backfill-form', 'data-pipeline': pipeline },
    from,
    ' – ',
    to,
    ' ',
    h('label', {}, force, ' force'),
    ' ',
    actionButton(
      'Backfill…',
      () => {
        const n = dateCount(from.value, to.value);
        return `Backfill ${pipeline} for ${n} date${n === 1 ? '' : 's'} (${from.value} … ${to.value})${force.checked ? ', forced' : ''}?`;
      },
      () => startBackfill(pipeline, { from: from.value, to: to.value, ...(force.checked && { force: true }) }),
      { action: 'backfill' },
    ),
  );
}
