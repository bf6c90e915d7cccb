// `learnsync plan` for school API nodes: how many calls the next run will make, per endpoint,
// from the stored cursors, progress rows and table counts. It only asks the API what it cannot
// know: the number of changes in a window (one call with page[size]=1, read from X-Total), or the
// size of a table the warehouse has never held.
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { SchoolApiClient } from '../../connectors/school-api/client.js';
import type { PipelineNode } from '../types.js';
import { readCursor, readProgress, type Lane, type Mode } from './sync.js';
import { schoolTable, type SchoolTableSpec } from './tables.js';
import { alreadySucceeded, pagesFor, type PlanLine, type PlanRun } from '../../runtime/plan-lines.js';

export type { PlanLine, PlanRun } from '../../runtime/plan-lines.js';

export async function planSchoolNode(
  warehouse: pg.Pool,
  config: Config,
  node: PipelineNode,
  run: PlanRun,
  probe: () => Promise<SchoolApiClient>,
): Promise<PlanLine[]> {
  const tables = (node.input?.tables as string[] | undefined) ?? [];
  const specs = tables.map((t) => schoolTable(t));
  if (await alreadySucceeded(warehouse, node.id, run)) {
    return [
      {
        job: node.id,
        endpoint: '(all)',
        mode: 'skipped',
        calls: 0,
        basis: `already succeeded for ${run.targetDate}; --force to run again`,
      },
    ];
  }
  const size = config.schoolApi.pageSize;
  const lane: Lane = run.targetDate ? 'nightly' : 'incremental';
  const runKey = run.targetDate ?? 'incremental';
  const progress = await readProgress(warehouse, node.id);
  const lines: PlanLine[] = [
    {
      job: node.id,
      endpoint: 'POST /oauth/token',
      mode: 'token',
      calls: 1,
      basis: 'a new client asks for a token once',
    },
  ];
  for (const spec of specs) {
    const p = progress.get(spec.name);
    const sameRun = p?.run_key === runKey;
    if (sameRun && p.state === 'complete') {
      lines.push({
        job: node.id,
        endpoint: spec.endpoint(config.schoolApi.scope, p.mode).endpoint,
        mode: 'done',
        calls: 0,
        basis: 'completed by the unfinished run being resumed',
      });
      continue;
    }
    if (sameRun && p.state === 'running' && !(run.force && p.mode === 'window')) {
      const total = await countRows(probe, spec, config, p.mode, p.window_start, p.window_end);
      const remaining = total === undefined ? null : Math.max(1, pagesFor(total, size) - (p.next_page - 1));
      lines.push({
        job: node.id,
        endpoint: spec.endpoint(config.schoolApi.scope, p.mode).endpoint,
        mode: `resume ${p.mode} at page ${p.next_page}`,
        calls: remaining,
        basis: `${p.pages_committed} pages already committed`,
      });
      continue;
    }
    const cursor = spec.kind === 'active' && !run.force ? await readCursor(warehouse, spec.name, lane) : undefined;
    const mode: Mode = cursor ? 'window' : 'full';
    const ep = spec.endpoint(config.schoolApi.scope, mode);
    if (mode === 'window') {
      const total = await countRows(probe, spec, config, mode, cursor!, new Date().toISOString());
      lines.push({
        job: node.id,
        endpoint: ep.endpoint,
        mode: `changes since ${cursor}`,
        calls: total === undefined ? null : pagesFor(total, size),
        basis: total === undefined ? 'the API sent no X-Total' : `${total} changed records (asked the API)`,
      });
      continue;
    }
    const stored = await warehouse.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${spec.table}`);
    const n = stored.rows[0]!.n;
    if (n > 0) {
      lines.push({
        job: node.id,
        endpoint: ep.endpoint,
        mode: 'full',
        calls: pagesFor(n, size),
        basis: `${n} rows in ${spec.table}`,
      });
    } else {
      const total = await countRows(probe, spec, config, mode, null, null);
      lines.push({
        job: node.id,
        endpoint: ep.endpoint,
        mode: 'full (first read)',
        calls: total === undefined ? null : pagesFor(total, size),
        basis: total === undefined ? 'the API sent no X-Total' : `${total} records (asked the API)`,
      });
    }
  }
  return lines;
}

async function countRows(
  probe: () => Promise<SchoolApiClient>,
  spec: SchoolTableSpec,
  config: Config,
  mode: Mode,
  start: string | null,
  end: string | null,
): Promise<number | undefined> {
  const ep = spec.endpoint(config.schoolApi.scope, mode);
  const query = mode === 'window' && start && end ? { ...ep.query, 'range[updated_at]': `${start},${end}` } : ep.query;
  const res = await (await probe()).getPage({ path: ep.path, endpoint: ep.endpoint, query, page: 1, size: 1 });
  return res.kind === 'ok' ? res.total : undefined;
}
