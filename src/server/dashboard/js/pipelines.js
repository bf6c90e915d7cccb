// The overview: pipelines (schedules with pause/unpause, last run — for a per-family pipeline, the
// last run of its nodes inside a composite one — success rate of final attempts, and for admin
// tokens run/force/backfill), the success-rate and rows charts, freshness and alerts.
import { actionButton, backfillForm, scheduleAction, startRun } from './actions.js';
import {
  PALETTE,
  api,
  app,
  badge,
  chart,
  chartBox,
  fmtAge,
  fmtTime,
  h,
  runLink,
  scheduleText,
  section,
  table,
  whoami,
} from './lib.js';

/** Where a pipeline's nodes last ran: its own last run, else that of a pipeline holding all its nodes. */
function lastRunOf(p, all) {
  if (p.lastRun) return { run: p.lastRun, via: null };
  const ids = new Set(p.nodes.map((n) => n.id));
  const holders = all.filter(
    (q) => q.name !== p.name && q.lastRun && p.nodes.every((n) => q.nodes.some((m) => m.id === n.id)) && ids.size,
  );
  holders.sort((a, b) => b.lastRun.startedAt.localeCompare(a.lastRun.startedAt));
  return holders[0] ? { run: holders[0].lastRun, via: holders[0].name } : { run: null, via: null };
}

function scheduleCell(p, schedules, admin) {
  const declared = p.schedules;
  if (!declared.length) return h('span', { class: 'muted' }, '—');
  return declared.map((s) => {
    const live = schedules.find((x) => x.id === s.id);
    return h(
      'div',
      { class: 'schedule', 'data-schedule': s.id },
      scheduleText(s),
      live?.paused ? [' ', badge('paused')] : null,
      admin && live
        ? [
            ' ',
            actionButton(
              live.paused ? 'Unpause' : 'Pause',
              () => `${live.paused ? 'Unpause' : 'Pause'} schedule ${s.id}?`,
              () => scheduleAction(s.id, live.paused ? 'unpause' : 'pause'),
              { action: live.paused ? 'unpause' : 'pause' },
            ),
          ]
        : null,
    );
  });
}

function actionsCell(p) {
  const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  const what = p.kind === 'nightly' ? ` for ${yesterday}` : '';
  return h(
    'div',
    { class: 'actions' },
    actionButton(
      'Run',
      () => `Start ${p.name}${what}? Nodes that already succeeded${what} are skipped.`,
      () => startRun(p.name, {}),
      { action: 'run' },
    ),
    actionButton(
      'Force',
      () => `Start ${p.name}${what} with force: every node runs again, succeeded or not?`,
      () => startRun(p.name, { force: true }),
      { action: 'force' },
    ),
    p.kind === 'nightly' ? backfillForm(p.name) : null,
  );
}

const fmtBytes = (n) =>
  n === null || n === undefined
    ? '?'
    : n < 1024 * 1024
      ? `${Math.round(n / 1024)} KiB`
      : `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;

/** One row per capture source: what it applied, how far behind, the WAL its slot holds, and why to act. */
function cdcSection(sources) {
  return section(
    'Change data capture',
    table(
      ['source', 'slot', 'applied', 'changes', 'lag', 'WAL held', 'of limit', 'measured', ''],
      sources.map((s) =>
        h(
          'tr',
          { 'data-cdc': s.source },
          h('td', {}, s.source),
          h('td', {}, s.slot),
          h(
            'td',
            {},
            s.appliedLsn,
            s.appliedCommitTime ? h('div', { class: 'muted' }, fmtTime(s.appliedCommitTime)) : null,
          ),
          h('td', { class: 'num' }, String(s.changesApplied)),
          h('td', { class: 'num' }, s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`),
          h('td', { class: 'num' }, fmtBytes(s.lagBytes)),
          h(
            'td',
            { class: 'num' },
            s.walRetainedShare === null ? 'no limit' : `${Math.round(s.walRetainedShare * 100)}%`,
          ),
          h('td', {}, s.lagMeasuredAt ? fmtTime(s.lagMeasuredAt) : 'never'),
          h(
            'td',
            { class: 'wrap' },
            s.alert ? [badge('OPEN'), ' ', h('span', { class: 'muted' }, s.alert)] : badge('fresh'),
          ),
        ),
      ),
    ),
  );
}

export async function pipelinesPage() {
  const [pipelines, overview, me, schedules] = await Promise.all([
    api('/api/pipelines'),
    api('/api/dashboard/overview'),
    whoami(),
    api('/api/schedules').catch(() => ({ schedules: [] })),
  ]);
  const admin = me.role === 'admin';
  const all = pipelines.pipelines;
  app.replaceChildren(
    section(
      'Pipelines',
      table(
        [
          'pipeline',
          'kind',
          'schedule',
          'last run',
          'target',
          '7-day success (final attempts)',
          '',
          admin ? 'actions' : null,
        ].filter((x) => x !== null),
        all.map((p) => {
          const { run, via } = lastRunOf(p, all);
          return h(
            'tr',
            { 'data-pipeline': p.name },
            h('td', {}, p.name),
            h('td', {}, p.kind),
            h('td', {}, scheduleCell(p, schedules.schedules, admin)),
            h(
              'td',
              {},
              run
                ? [
                    badge(run.status),
                    ' ',
                    fmtTime(run.startedAt),
                    via ? h('span', { class: 'muted' }, ` in ${via}`) : null,
                  ]
                : h('span', { class: 'muted' }, 'never'),
            ),
            h('td', {}, run?.targetDate ?? ''),
            h(
              'td',
              { class: 'num' },
              // The API's one success rate (final attempts); retried failures shown beside it, not in it.
              p.successRatePercent7d === null || p.successRatePercent7d === undefined
                ? '–'
                : [
                    `${p.successRatePercent7d}%`,
                    p.jobRuns7d.failed ? h('span', { class: 'muted' }, ` (${p.jobRuns7d.failed} failed)`) : null,
                    p.jobRuns7d.failedAttempts
                      ? h('span', { class: 'muted' }, ` (+${p.jobRuns7d.failedAttempts} retried attempts)`)
                      : null,
                  ],
            ),
            h(
              'td',
              {},
              run?.workflowId
                ? [
                    runLink(run.workflowId, 'run'),
                    run.webUrl
                      ? [' · ', h('a', { href: run.webUrl, target: '_blank', rel: 'noopener' }, 'Web UI')]
                      : null,
                  ]
                : '',
            ),
            admin ? h('td', {}, actionsCell(p)) : null,
          );
        }),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      section('Job success rate per day, last 7 days (final attempts)', chartBox('success-chart')),
      section('Rows per day per job, last 30 days (▲ row-drop alert)', chartBox('rows-chart')),
    ),
    // Freshness and alerts take the full width: their last columns are never clipped.
    h(
      'div',
      {},
      section(
        'Freshness',
        table(
          ['job', 'pipeline', 'last success', 'age', 'expected', ''],
          overview.freshness.map((f) =>
            h(
              'tr',
              {},
              h('td', { class: 'wrap' }, f.job),
              h('td', {}, f.pipeline ?? ''),
              h('td', {}, fmtTime(f.lastSuccess)),
              h('td', { class: 'num' }, fmtAge(f.ageSeconds)),
              h('td', { class: 'num' }, fmtAge(f.expectedSeconds)),
              h('td', {}, badge(f.fresh ? 'fresh' : 'stale')),
            ),
          ),
          { class: 'freshness' },
        ),
      ),
      overview.cdc?.length ? cdcSection(overview.cdc) : null,
      section(
        'Alerts',
        overview.alerts.length
          ? table(
              ['', 'rule', 'subject', 'message'],
              overview.alerts.map((a) =>
                h(
                  'tr',
                  {},
                  h('td', {}, badge(a.resolvedAt ? 'resolved' : 'OPEN')),
                  h('td', {}, a.rule),
                  h('td', {}, a.subject),
                  h('td', { class: 'muted wrap' }, a.message),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No alerts.'),
      ),
    ),
  );

  const days = overview.successRate7d.map((d) => d.day);
  chart('success-chart', {
    type: 'line',
    data: {
      labels: days,
      datasets: [
        {
          label: 'success rate (%)',
          data: overview.successRate7d.map((d) => d.successRatePercent ?? null),
          borderColor: '#1a7f37',
          backgroundColor: '#1a7f37',
        },
      ],
    },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: '%' } } } },
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
      plugins: { legend: { display: true, position: 'bottom', labels: { boxWidth: 10 } } },
      scales: { y: { beginAtZero: true } },
    },
  });
}
