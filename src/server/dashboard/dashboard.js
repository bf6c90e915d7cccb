// The learnsync dashboard, in the browser: asks for an API token once (sessionStorage), then draws
// the pipelines overview, a run's DAG and the learning-ROI views from the JSON API. Every value is
// inserted as text (never as HTML), so nothing the data holds can run here.
/* global Chart */
(() => {
  'use strict';
  const app = document.getElementById('app');
  const login = document.getElementById('login');
  const forget = document.getElementById('forget');
  const charts = [];
  const TOKEN_KEY = 'learnsync.token';

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity))
      if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  const svg = (tag, attrs, ...children) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children.flat(Infinity))
      if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
    return el;
  };
  const badge = (s) => h('span', { class: `badge s-${s}` }, s);
  const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
  const fmtMs = (ms) => (ms === null || ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const fmtAge = (s) =>
    s < 120
      ? `${s} s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : s < 172800
          ? `${Math.round(s / 3600)} h`
          : `${Math.round(s / 86400)} d`;
  const section = (title, ...body) => h('section', {}, h('h2', {}, title), ...body);
  const chartBox = (id) => h('div', { class: 'chart' }, h('canvas', { id, 'data-chart': id }));
  const PALETTE = [
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

  async function api(path) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      throw Object.assign(new Error('the token was refused: paste another'), { auth: true });
    }
    const body = await res.json();
    if (!res.ok)
      throw new Error(body.error ? `${body.error.message} (request ${body.error.requestId})` : `HTTP ${res.status}`);
    return body;
  }

  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    const c = new Chart(canvas, {
      ...config,
      options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
    });
    charts.push(c);
    // The browser tests read the drawn points from here.
    canvas.dataset.points = String(
      c.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0),
    );
  }

  async function pipelinesPage() {
    const [pipelines, overview, runs, backfills] = await Promise.all([
      api('/api/pipelines'),
      api('/api/dashboard/overview'),
      api('/api/runs?limit=20'),
      api('/api/runs?kind=backfill&status=running&limit=10').catch(() => ({ runs: [] })),
    ]);
    const progress = await Promise.all(
      backfills.runs.map((b) => api(`/api/runs/${encodeURIComponent(b.workflowId)}`).catch(() => null)),
    );
    app.replaceChildren(
      section(
        'Pipelines',
        h(
          'table',
          {},
          h(
            'tr',
            {},
            ['pipeline', 'kind', 'schedule', 'last run', 'target', '7-day job success', ''].map((t) => h('th', {}, t)),
          ),
          pipelines.pipelines.map((p) =>
            h(
              'tr',
              { 'data-pipeline': p.name },
              h('td', {}, p.name),
              h('td', {}, p.kind),
              h(
                'td',
                { class: 'muted' },
                p.schedules.map((s) => s.cron?.join(' ') ?? `every ${s.every}`).join(', ') || '—',
              ),
              h(
                'td',
                {},
                p.lastRun
                  ? [
                      badge(p.lastRun.status),
                      ' ',
                      new Date(p.lastRun.startedAt).toISOString().slice(0, 16).replace('T', ' '),
                    ]
                  : h('span', { class: 'muted' }, 'never'),
              ),
              h('td', {}, p.lastRun?.targetDate ?? ''),
              h(
                'td',
                { class: 'num' },
                p.successRate7d === null ? '–' : `${Math.round(p.successRate7d * 100)}% (${p.jobRuns7d.failed} failed)`,
              ),
              h(
                'td',
                {},
                p.lastRun?.workflowId
                  ? [
                      h('a', { href: `#/runs/${encodeURIComponent(p.lastRun.workflowId)}` }, 'run'),
                      p.lastRun.webUrl
                        ? [' · ', h('a', { href: p.lastRun.webUrl, target: '_blank', rel: 'noopener' }, 'Web UI')]
                        : null,
                    ]
                  : '',
              ),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'grid' },
        section('Job success rate, last 7 days', chartBox('success-chart')),
        section('Rows per day per job, last 30 days (▲ row-drop alert)', chartBox('rows-chart')),
      ),
      h(
        'div',
        { class: 'grid' },
        section(
          'Freshness',
          h(
            'table',
            {},
            h(
              'tr',
              {},
              ['job', 'pipeline', 'last success', 'age', 'expected', ''].map((t) => h('th', {}, t)),
            ),
            overview.freshness.map((f) =>
              h(
                'tr',
                {},
                h('td', {}, f.job),
                h('td', {}, f.pipeline ?? ''),
                h('td', {}, f.lastSuccess.slice(0, 16).replace('T', ' ')),
                h('td', { class: 'num' }, fmtAge(f.ageSeconds)),
                h('td', { class: 'num' }, fmtAge(f.expectedSeconds)),
                h('td', {}, badge(f.fresh ? 'fresh' : 'stale')),
              ),
            ),
          ),
        ),
        section(
          'Alerts',
          overview.alerts.length
            ? h(
                'table',
                {},
                overview.alerts.map((a) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, badge(a.resolvedAt ? 'resolved' : 'OPEN')),
                    h('td', {}, a.rule),
                    h('td', {}, a.subject),
                    h('td', { class: 'muted' }, a.message),
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'No alerts.'),
        ),
      ),
      section(
        'Running backfills',
        progress.filter(Boolean).length
          ? h(
              'table',
              {},
              progress
                .filter(Boolean)
                .map((b) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(b.workflowId)}` }, b.workflowId)),
                    h(
                      'td',
                      {},
                      b.backfill
                        ? [
                            h(
                              'span',
                              { class: 'progress' },
                              h('span', { 'data-width': Math.round((b.backfill.done / b.backfill.total) * 100) }),
                            ),
                            ` ${b.backfill.done}/${b.backfill.total} dates, ${b.backfill.failed.length} failed`,
                          ]
                        : 'starting…',
                    ),
                    h('td', { class: 'muted' }, b.workerBuildId ? `worker build ${b.workerBuildId}` : ''),
                  ),
                ),
            )
          : h('p', { class: 'muted' }, 'None running.'),
      ),
      section(
        'Recent runs',
        h(
          'table',
          {},
          h(
            'tr',
            {},
            ['workflow', 'kind', 'status', 'started', 'duration', 'rows', 'rejected'].map((t) => h('th', {}, t)),
          ),
          runs.runs.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.workflowId)}` }, r.workflowId)),
              h('td', {}, r.kind),
              h('td', {}, badge(r.status)),
              h('td', {}, r.startTime.slice(0, 19).replace('T', ' ')),
              h('td', { class: 'num' }, fmtMs(r.durationMs)),
              h('td', { class: 'num' }, fmtInt(r.rows)),
              h('td', { class: 'num' }, fmtInt(r.rejected)),
            ),
          ),
        ),
      ),
    );
    for (const bar of app.querySelectorAll('[data-width]')) bar.style.width = `${bar.dataset.width}%`;

    const days = overview.successRate7d.map((d) => d.day);
    chart('success-chart', {
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          { label: 'succeeded', data: overview.successRate7d.map((d) => d.succeeded), backgroundColor: '#1a7f37' },
          { label: 'failed', data: overview.successRate7d.map((d) => d.failed), backgroundColor: '#cf222e' },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
    const rowDays = [...new Set(overview.rowsPerDay.map((r) => r.day))].sort();
    const jobs = [...new Set(overview.rowsPerDay.map((r) => r.job))].sort();
    chart('rows-chart', {
      type: 'line',
      data: {
        labels: rowDays,
        datasets: jobs.map((job, i) => {
          const byDay = new Map(overview.rowsPerDay.filter((r) => r.job === job).map((r) => [r.day, r]));
          return {
            label: job,
            data: rowDays.map((d) => byDay.get(d)?.rows ?? null),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            spanGaps: true,
            pointStyle: rowDays.map((d) => (byDay.get(d)?.alert ? 'triangle' : 'circle')),
            pointRadius: rowDays.map((d) => (byDay.get(d)?.alert ? 7 : 2)),
          };
        }),
      },
      options: {
        plugins: { legend: { display: jobs.length <= 12, position: 'bottom' } },
        scales: { y: { beginAtZero: true } },
      },
    });
  }

  /** Lays the DAG out in columns by depth (longest path from a root) and draws it as SVG. */
  function dagSvg(nodes) {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const depth = new Map();
    const depthOf = (id, seen = new Set()) => {
      if (depth.has(id)) return depth.get(id);
      if (seen.has(id)) return 0;
      seen.add(id);
      const d =
        Math.max(-1, ...(byId.get(id)?.dependsOn ?? []).filter((x) => byId.has(x)).map((x) => depthOf(x, seen))) + 1;
      depth.set(id, d);
      return d;
    };
    nodes.forEach((n) => depthOf(n.id));
    const cols = new Map();
    for (const n of nodes) cols.set(depth.get(n.id), [...(cols.get(depth.get(n.id)) ?? []), n]);
    const W = 210,
      H = 46,
      GX = 60,
      GY = 18;
    const pos = new Map();
    for (const [d, col] of cols) col.forEach((n, i) => pos.set(n.id, { x: 10 + d * (W + GX), y: 10 + i * (H + GY) }));
    const width = 20 + cols.size * (W + GX);
    const height = 20 + Math.max(...[...cols.values()].map((c) => c.length)) * (H + GY);
    const edges = nodes.flatMap((n) =>
      (n.dependsOn ?? [])
        .filter((d) => pos.has(d))
        .map((d) => {
          const a = pos.get(d),
            b = pos.get(n.id);
          return svg('line', { x1: a.x + W, y1: a.y + H / 2, x2: b.x - 4, y2: b.y + H / 2 });
        }),
    );
    const boxes = nodes.map((n) => {
      const p = pos.get(n.id);
      return svg(
        'g',
        { 'data-node': n.id, 'data-state': n.state },
        svg('title', {}, `${n.id}: ${n.state}${n.error ? ` — ${n.error}` : ''}`),
        svg('rect', { x: p.x, y: p.y, width: W, height: H, class: `n-${n.state}` }),
        svg('text', { x: p.x + 8, y: p.y + 18 }, n.id.length > 30 ? `${n.id.slice(0, 29)}…` : n.id),
        svg(
          'text',
          { x: p.x + 8, y: p.y + 36, fill: '#57606a' },
          `${n.state} · ${fmtInt(n.rows)} rows${n.durationMs !== undefined ? ` · ${fmtMs(n.durationMs)}` : ''}`,
        ),
      );
    });
    return svg(
      'svg',
      { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}` },
      svg(
        'defs',
        {},
        svg(
          'marker',
          {
            id: 'arrow',
            viewBox: '0 0 10 10',
            refX: 10,
            refY: 5,
            markerWidth: 6,
            markerHeight: 6,
            orient: 'auto-start-reverse',
          },
          svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8c959f' }),
        ),
      ),
      edges,
      boxes,
    );
  }

  async function runPage(id) {
    const run = await api(`/api/runs/${encodeURIComponent(id)}`);
    const head = h(
      'p',
      {},
      badge(run.status),
      ` ${run.kind} of ${run.pipeline ?? '?'}${run.targetDate ? ` for ${run.targetDate}` : ''}, started ${run.startTime.slice(0, 19).replace('T', ' ')}`,
      run.durationMs !== null ? `, took ${fmtMs(run.durationMs)}` : '',
      // Which worker build served it last: during a rollout, old and new builds both show up.
      run.workerBuildId ? `, worker build ${run.workerBuildId}` : '',
      run.webUrl ? [' · ', h('a', { href: run.webUrl, target: '_blank', rel: 'noopener' }, 'Temporal Web UI')] : null,
    );
    const parts = [section(run.workflowId, head)];
    if (run.dag) {
      parts.push(section('DAG', h('div', { id: 'dag' }, dagSvg(run.dag.nodes))));
      parts.push(
        section(
          'Nodes',
          h(
            'table',
            {},
            h(
              'tr',
              {},
              ['node', 'state', 'rows', 'rejected', 'time', 'error'].map((t) => h('th', {}, t)),
            ),
            run.dag.nodes.map((n) =>
              h(
                'tr',
                {},
                h('td', {}, n.id),
                h('td', {}, badge(n.state)),
                h('td', { class: 'num' }, fmtInt(n.rows)),
                h('td', { class: 'num' }, fmtInt(n.rejected)),
                h('td', { class: 'num' }, fmtMs(n.durationMs)),
                h('td', { class: 'error' }, n.error ?? ''),
              ),
            ),
          ),
        ),
      );
    } else if (run.backfill) {
      const b = run.backfill;
      parts.push(
        section(
          'Backfill',
          h(
            'p',
            {},
            `${b.done}/${b.total} dates ${b.from}..${b.to}, ${b.succeeded} succeeded, ${b.failed.length} failed, ${fmtInt(b.rows)} rows; running: ${b.running.join(', ') || 'none'}`,
          ),
        ),
      );
    } else parts.push(section('DAG', h('p', { class: 'muted' }, 'No worker answered the progress query.')));
    parts.push(
      section(
        'Ledger rows',
        h(
          'table',
          {},
          h(
            'tr',
            {},
            ['job', 'status', 'target', 'rows', 'rejected', 'time', 'attempt', 'error'].map((t) => h('th', {}, t)),
          ),
          run.jobs.map((j) =>
            h(
              'tr',
              {},
              h('td', {}, j.job),
              h('td', {}, badge(j.status)),
              h('td', {}, j.targetDate ?? ''),
              h('td', { class: 'num' }, fmtInt(j.rows)),
              h('td', { class: 'num' }, fmtInt(j.rejected)),
              h('td', { class: 'num' }, fmtMs(j.durationMs)),
              h('td', { class: 'num' }, j.attempt ?? ''),
              h('td', { class: 'error' }, j.error ?? ''),
            ),
          ),
        ),
      ),
    );
    app.replaceChildren(...parts);
  }

  async function roiPage() {
    const roi = await api('/api/dashboard/learning-roi');
    const v = roi.views;
    const none = (name) =>
      v[name] ? null : h('p', { class: 'muted' }, 'Not exported yet: run the learning-roi pipeline.');
    app.replaceChildren(
      h(
        'div',
        { class: 'grid' },
        section('Certified learners per fiscal year', chartBox('fy-chart'), none('certified_learners_by_fiscal_year')),
        section('Pass rate by exam month', chartBox('pass-chart'), none('pass_rate_by_exam_month')),
        section(
          'Product usage before / after certification (avg events per account)',
          chartBox('before-after-chart'),
          none('usage_before_after_certification'),
        ),
        section(
          'Certified vs not yet certified (avg events per account)',
          chartBox('segments-chart'),
          none('usage_certified_vs_not_yet_certified'),
        ),
      ),
      section(
        'Identity resolution and quality gates',
        h(
          'table',
          {},
          h(
            'tr',
            {},
            ['gate', 'status', 'observed', 'expected', 'checked', 'note'].map((t) => h('th', {}, t)),
          ),
          roi.gates.map((g) =>
            h(
              'tr',
              {},
              h('td', {}, g.gate),
              h('td', {}, badge(g.status)),
              h(
                'td',
                { class: 'num' },
                g.observed === null ? '–' : Number(g.observed).toLocaleString('en-US', { maximumFractionDigits: 3 }),
              ),
              h('td', {}, g.expected),
              h('td', {}, g.checked_at.slice(0, 16).replace('T', ' ')),
              h('td', { class: 'muted' }, g.note),
            ),
          ),
        ),
      ),
    );
    const fy = v.certified_learners_by_fiscal_year?.rows ?? [];
    chart('fy-chart', {
      type: 'bar',
      data: {
        labels: fy.map((r) => r.fiscal_year),
        datasets: [
          { label: 'newly certified', data: fy.map((r) => r.newly_certified_learners), backgroundColor: '#1a7f37' },
          {
            label: 'cumulative certified',
            data: fy.map((r) => r.cumulative_certified_learners),
            backgroundColor: '#0969da',
          },
        ],
      },
    });
    const pass = v.pass_rate_by_exam_month?.rows ?? [];
    const months = [...new Set(pass.map((r) => r.month))].sort();
    const perMonth = months.map((m) => {
      const rows = pass.filter((r) => r.month === m);
      const attempts = rows.reduce((s, r) => s + r.attempts, 0);
      return attempts ? rows.reduce((s, r) => s + r.passes, 0) / attempts : null;
    });
    chart('pass-chart', {
      type: 'line',
      data: {
        labels: months,
        datasets: [
          { label: 'pass rate (all exams)', data: perMonth, borderColor: '#8250df', backgroundColor: '#8250df' },
        ],
      },
      options: { scales: { y: { min: 0, max: 1 } } },
    });
    const ba = v.usage_before_after_certification?.rows ?? [];
    chart('before-after-chart', {
      type: 'bar',
      data: {
        labels: ba.map((r) => r.product),
        datasets: [
          { label: 'before', data: ba.map((r) => r.avg_events_before), backgroundColor: '#8c959f' },
          { label: 'after', data: ba.map((r) => r.avg_events_after), backgroundColor: '#1a7f37' },
        ],
      },
    });
    const seg = v.usage_certified_vs_not_yet_certified?.rows ?? [];
    chart('segments-chart', {
      type: 'bar',
      data: {
        labels: ['Copilot', 'Actions', 'Security', 'total'],
        datasets: seg.map((r, i) => ({
          label: r.segment,
          data: [r.avg_copilot_events, r.avg_actions_events, r.avg_security_events, r.avg_total_events],
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
    });
  }

  async function route() {
    while (charts.length) charts.pop().destroy();
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      login.hidden = false;
      forget.hidden = true;
      app.replaceChildren();
      return;
    }
    login.hidden = true;
    forget.hidden = false;
    const hash = location.hash || '#/';
    app.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      if (hash.startsWith('#/runs/')) await runPage(decodeURIComponent(hash.slice('#/runs/'.length)));
      else if (hash === '#/learning-roi') await roiPage();
      else await pipelinesPage();
      document.body.dataset.ready = 'true';
    } catch (err) {
      if (err.auth) return route().then(() => (document.getElementById('login-error').textContent = err.message));
      app.replaceChildren(h('p', { class: 'error' }, err.message));
      document.body.dataset.ready = 'error';
    }
  }

  login.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    document.getElementById('login-error').textContent = '';
    route();
  });
  forget.addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    route();
  });
  window.addEventListener('hashchange', () => {
    document.body.dataset.ready = 'false';
    route();
  });
  route();
})();
