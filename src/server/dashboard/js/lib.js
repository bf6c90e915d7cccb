// Shared helpers of the dashboard's pages: DOM and SVG builders (every value goes in as text, never
// as HTML, so nothing the data holds can run here), the API client with the session's token,
// number/time formats, one badge per state and Chart.js set-up with a legend on every chart.
/* global Chart */
export const TOKEN_KEY = 'learnsync.token';
export const app = document.getElementById('app');
const charts = [];

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity))
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity))
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Temporal's COMPLETED and the ledger's SUCCESS mean the same: one badge. */
const SAME = { COMPLETED: 'SUCCESS', Completed: 'SUCCESS', FAILED: 'FAILED', Failed: 'FAILED', Running: 'RUNNING' };
export const badge = (s) => {
  const label = SAME[s] ?? s;
  return h('span', { class: `badge s-${label}` }, label);
};
export const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
export const fmtMs = (ms) =>
  ms === null || ms === undefined
    ? ''
    : ms < 1000
      ? `${ms} ms`
      : ms < 120000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${Math.round(ms / 60000)} min`;
export const fmtAge = (s) =>
  s === null || s === undefined
    ? '–'
    : s < 120
      ? `${s} s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : s < 172800
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86400)} d`;
export const fmtTime = (iso) => (iso ? String(iso).slice(0, 16).replace('T', ' ') : '');
export const section = (title, ...body) => h('section', {}, h('h2', {}, title), ...body);
export const table = (heads, rows, attrs) =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs ?? {},
      h(
        'tr',
        {},
        heads.map((t) => h('th', {}, t)),
      ),
      rows,
    ),
  );
export const chartBox = (id) => h('div', { class: 'chart' }, h('canvas', { id, 'data-chart': id }));
export const PALETTE = [
  '#0969da',
  '#1a7f37',
  '#9a6700',
  '#cf222e',
  '#8250df',
  '#bf3989',
  '#1b7c83',
  '#953800',
  '#57606a',
  '#4d2d00',
];
export const runLink = (id, text) => h('a', { href: `#/runs/${encodeURIComponent(id)}` }, text ?? id);

/** One schedule format everywhere: "every 15 min", "daily at 03:00 UTC", or the cron line. */
export function scheduleText(s) {
  if (s.every) {
    const m = /^(\d+)([mh])$/.exec(s.every);
    return m ? `every ${m[1]} ${m[2] === 'h' ? 'h' : 'min'}` : `every ${s.every}`;
  }
  return (s.cron ?? [])
    .map((c) => {
      const f = c.trim().split(/\s+/);
      if (f.length === 5 && /^\d+$/.test(f[0]) && /^\d+$/.test(f[1]) && f.slice(2).every((x) => x === '*'))
        return `daily at ${f[1].padStart(2, '0')}:${f[0].padStart(2, '0')} UTC`;
      const step = f.length === 5 && /^\d+$/.test(f[0]) && /^\*\/(\d+)$/.exec(f[1]);
      if (step && f.slice(2).every((x) => x === '*')) return `every ${step[1]} h (at :${f[0].padStart(2, '0')} UTC)`;
      return `cron ${c}`;
    })
    .join(', ');
}

export async function api(path, init) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init?.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw Object.assign(new Error('the token was refused: paste another'), { auth: true });
  }
  const body = await res.json();
  if (!res.ok)
    throw Object.assign(
      new Error(body.error ? `${body.error.message} (request ${body.error.requestId})` : `HTTP ${res.status}`),
      { status: res.status, body },
    );
  return body;
}

let me;
/** The token's role, asked once per page load: actions are offered to admin tokens only. */
export async function whoami() {
  me ??= await api('/api/dashboard/me');
  return me;
}
export const forgetWhoami = () => (me = undefined);

export function chart(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  const c = new Chart(canvas, {
    ...config,
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      ...config.options,
      plugins: { legend: { display: true, position: 'bottom' }, ...config.options?.plugins },
    },
  });
  charts.push(c);
  // The browser tests read the drawn points and the legend from here.
  canvas.dataset.points = String(
    c.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0),
  );
  canvas.dataset.legend = c.options.plugins.legend.display ? 'shown' : 'hidden';
}

export function destroyCharts() {
  while (charts.length) charts.pop().destroy();
}
