// The learning-ROI views (the exported dashboard JSON) as charts, with the identity-resolution and
// quality-gate table.
import { PALETTE, api, app, badge, chart, chartBox, h, section, table } from './lib.js';

export async function roiPage() {
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
      table(
        ['gate', 'status', 'observed', 'expected', 'checked', 'note'],
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
