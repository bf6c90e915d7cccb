// Drawing a run: the DAG in layers (longest path from a root; an edge that skips layers passes
// through placeholder slots, so every edge runs only through the gaps between columns and never over
// a node; order within a layer by barycentre sweeps to cut crossings) and a Gantt timeline of the
// nodes. Boxes are as wide as the longest id needs (capped); longer labels are cut with "…".
import { fmtInt, fmtMs, h, svg } from './lib.js';

const CHAR = 7.2; // px per character at the 12 px label size
const H = 44;
const GX = 70;
const GY = 14;
export const STATE_COLORS = {
  succeeded: '#1a7f37',
  skipped: '#8c959f',
  running: '#0969da',
  failed: '#cf222e',
  pending: '#d0d7de',
  cancelled: '#9a6700',
};
const fit = (text, width) => {
  const max = Math.max(3, Math.floor((width - 14) / CHAR));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** Layers, order and positions: { pos: Map(id → {x, y}), chains: [{from, to, via: [{x, y}]}], W, width, height }. */
export function layout(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map();
  const layerOf = (id, seen = new Set()) => {
    if (layer.has(id)) return layer.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const deps = (byId.get(id)?.dependsOn ?? []).filter((d) => byId.has(d));
    const l = deps.length ? Math.max(...deps.map((d) => layerOf(d, seen))) + 1 : 0;
    layer.set(id, l);
    return l;
  };
  nodes.forEach((n) => layerOf(n.id));
  const layers = [];
  const slot = (l, item) => (layers[l] ??= []).push(item);
  nodes.forEach((n) => slot(layer.get(n.id), { id: n.id }));
  const chains = [];
  for (const n of nodes)
    for (const d of (n.dependsOn ?? []).filter((x) => byId.has(x))) {
      const via = [];
      for (let l = layer.get(d) + 1; l < layer.get(n.id); l++) {
        const dummy = { id: `${d}→${n.id}@${l}`, dummy: true };
        slot(l, dummy);
        via.push(dummy.id);
      }
      chains.push({ from: d, to: n.id, via });
    }
  // Neighbours of each slot (real or placeholder), for the barycentre sweeps.
  const up = new Map();
  const down = new Map();
  const link = (a, b) => {
    (down.get(a) ?? down.set(a, []).get(a)).push(b);
    (up.get(b) ?? up.set(b, []).get(b)).push(a);
  };
  for (const c of chains) [c.from, ...c.via, c.to].reduce((a, b) => (link(a, b), b));
  const index = new Map();
  const reindex = () => layers.forEach((col) => col.forEach((s, i) => index.set(s.id, i)));
  reindex();
  const bary = (id, nbrs) => {
    const ns = nbrs.get(id) ?? [];
    return ns.length ? ns.reduce((t, x) => t + index.get(x), 0) / ns.length : index.get(id);
  };
  for (let sweep = 0; sweep < 6; sweep++) {
    const order = sweep % 2 === 0 ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const col of order) {
      const keyed = col.map((s) => [bary(s.id, sweep % 2 === 0 ? up : down), s]);
      keyed.sort((a, b) => a[0] - b[0]);
      col.splice(0, col.length, ...keyed.map(([, s]) => s));
      reindex();
    }
  }
  const longest = Math.max(8, ...nodes.map((n) => (n.label ?? n.id).length));
  const W = Math.round(Math.min(250, Math.max(150, longest * CHAR + 18)));
  const pos = new Map();
  layers.forEach((col, l) => col.forEach((s, i) => pos.set(s.id, { x: 10 + l * (W + GX), y: 10 + i * (H + GY) })));
  return {
    pos,
    chains,
    W,
    width: 20 + layers.length * (W + GX) - GX,
    height: 20 + Math.max(...layers.map((c) => c.length)) * (H + GY) - GY,
  };
}

/** The DAG as SVG: node boxes by state, edges as curves through the gaps between columns. */
export function dagSvg(nodes) {
  const { pos, chains, W, width, height } = layout(nodes);
  const curve = (x1, y1, x2, y2) => `C ${x1 + GX / 2} ${y1} ${x2 - GX / 2} ${y2} ${x2} ${y2}`;
  const edges = chains.map((c) => {
    const a = pos.get(c.from);
    let d = `M ${a.x + W} ${a.y + H / 2}`;
    let x = a.x + W;
    let y = a.y + H / 2;
    for (const id of c.via) {
      const p = pos.get(id);
      d += ` ${curve(x, y, p.x, p.y + H / 2)} L ${p.x + W} ${p.y + H / 2}`;
      x = p.x + W;
      y = p.y + H / 2;
    }
    const b = pos.get(c.to);
    d += ` ${curve(x, y, b.x - 3, b.y + H / 2)}`;
    return svg('path', { d, class: 'edge', 'data-from': c.from, 'data-to': c.to, 'marker-end': 'url(#arrow)' });
  });
  const boxes = nodes.map((n) => {
    const p = pos.get(n.id);
    const second =
      n.sub ?? `${n.state} · ${fmtInt(n.rows)} rows${n.durationMs !== undefined ? ` · ${fmtMs(n.durationMs)}` : ''}`;
    return svg(
      'g',
      { 'data-node': n.id, 'data-state': n.state },
      svg('title', {}, `${n.title ?? n.id}: ${second}${n.error ? ` — ${n.error}` : ''}`),
      svg('rect', { x: p.x, y: p.y, width: W, height: H, rx: 4, class: `n-${n.state}` }),
      svg('text', { x: p.x + 7, y: p.y + 18, class: 'label' }, fit(n.label ?? n.id, W)),
      svg('text', { x: p.x + 7, y: p.y + 35, class: 'sub' }, fit(second, W)),
    );
  });
  return svg(
    'svg',
    { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, 'data-box-width': W },
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

/** The nodes on one time axis: a bar from start to finish (or now, while running), by state. */
export function ganttSvg(nodes, now = Date.now()) {
  const timed = nodes.filter((n) => n.startedAt).sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  if (!timed.length) return h('p', { class: 'muted' }, 'No node has started yet.');
  const t0 = timed[0].startedAt;
  const t1 = Math.max(...timed.map((n) => n.finishedAt ?? now), t0 + 1);
  const LABEL = 170;
  const width = 560;
  const row = 22;
  const height = 26 + timed.length * row;
  const x = (t) => LABEL + ((t - t0) / (t1 - t0)) * (width - LABEL - 10);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tx = LABEL + f * (width - LABEL - 10);
    return [
      svg('line', { x1: tx, y1: 14, x2: tx, y2: height, class: 'tick' }),
      svg(
        'text',
        { x: tx, y: 10, class: 'axis', 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' },
        fmtMs(Math.round(f * (t1 - t0))) || '0 ms',
      ),
    ];
  });
  const bars = timed.map((n, i) => {
    const y = 20 + i * row;
    const end = n.finishedAt ?? now;
    return svg(
      'g',
      { 'data-bar': n.id, 'data-state': n.state },
      svg('title', {}, `${n.id}: ${n.state}, ${fmtMs(end - n.startedAt)}`),
      svg('text', { x: 4, y: y + 13, class: 'label' }, fit(n.id, LABEL)),
      svg('rect', {
        x: x(n.startedAt),
        y: y + 3,
        width: Math.max(2, x(end) - x(n.startedAt)),
        height: row - 8,
        rx: 2,
        fill: STATE_COLORS[n.state] ?? '#8c959f',
      }),
    );
  });
  return svg('svg', { class: 'gantt', width, height, viewBox: `0 0 ${width} ${height}` }, ticks, bars);
}

export const stateLegend = (states) =>
  h(
    'div',
    { class: 'legend', 'data-legend': '' },
    states.map((s) => h('span', {}, h('i', { class: `swatch n-${s}` }), s)),
  );
