// The dataset graph: which node reads and writes which dataset (tables, files, API endpoints,
// BigQuery tables), for one pipeline at a time, and every dataset with its freshness — the last
// success of the node that writes it.
import { dagSvg, stateLegend } from './dag.js';
import { api, app, badge, fmtAge, fmtTime, h, section, table } from './lib.js';

export async function lineagePage(params) {
  const [graph, { pipelines }] = await Promise.all([api('/api/dashboard/lineage'), api('/api/pipelines')]);
  const name = params.get('pipeline') || 'nightly';
  const pipeline = pipelines.find((p) => p.name === name) ?? pipelines[0];
  const ids = new Set(pipeline.nodes.map((n) => n.id));
  const used = graph.datasets.filter((d) => d.producers.some((p) => ids.has(p)) || d.consumers.some((c) => ids.has(c)));
  const freshness = (d) => (d.fresh === null ? 'source' : d.fresh ? 'fresh' : 'stale');
  const items = [
    ...pipeline.nodes.map((n) => ({
      id: n.id,
      state: 'job',
      sub: `node · ${n.activity}`,
      dependsOn: used.filter((d) => d.consumers.includes(n.id)).map((d) => d.key),
    })),
    ...used.map((d) => ({
      id: d.key,
      label: d.name,
      title: d.key,
      state: freshness(d),
      sub: `${d.kind} · ${d.namespace}${d.ageSeconds !== null ? ` · ${fmtAge(d.ageSeconds)} old` : ''}`,
      dependsOn: d.producers.filter((p) => ids.has(p)),
    })),
  ];
  const select = h(
    'select',
    { 'data-filter': 'pipeline' },
    pipelines.map((p) =>
      h('option', { value: p.name, selected: p.name === pipeline.name ? 'selected' : null }, p.name),
    ),
  );
  select.addEventListener('change', () => (location.hash = `#/lineage?pipeline=${encodeURIComponent(select.value)}`));
  app.replaceChildren(
    section(
      `Lineage of ${pipeline.name}: ${used.length} datasets, ${pipeline.nodes.length} nodes`,
      h('p', {}, 'Pipeline: ', select),
      h('div', { id: 'lineage-graph' }, dagSvg(items)),
      stateLegend(['job', 'source', 'fresh', 'stale']),
    ),
    section(
      `Datasets of ${pipeline.name} (${used.length} of ${graph.datasets.length} declared)`,
      table(
        ['dataset', 'kind', 'written by', 'read by', 'last written', 'age', ''],
        used.map((d) =>
          h(
            'tr',
            { 'data-dataset': d.key },
            h('td', { class: 'wrap' }, h('span', { class: 'muted' }, `${d.namespace}/`), d.name),
            h('td', {}, d.kind),
            h('td', { class: 'wrap' }, d.producers.join(', ') || '—'),
            h('td', { class: 'wrap' }, d.consumers.join(', ') || '—'),
            h('td', {}, fmtTime(d.lastWritten)),
            h('td', { class: 'num' }, fmtAge(d.ageSeconds)),
            h('td', {}, badge(freshness(d))),
          ),
        ),
        { class: 'datasets' },
      ),
    ),
  );
}
