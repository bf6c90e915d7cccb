// Follows a running pipeline through its `progress` query: prints each node as its state
// changes, then the whole DAG as a table with rows and times.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { NodeProgress, PipelineProgress } from '../pipelines/types.js';
import type { PipelineRunResult } from '../workflows/run-dag.js';
import { progressQuery, runPipeline } from '../workflows/run-dag.js';

const SYMBOL: Record<NodeProgress['state'], string> = {
  pending: '·',
  running: '▸',
  succeeded: '✓',
  skipped: '↷',
  failed: '✗',
  cancelled: '⊘',
};

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export const fmtMs = (ms: number | undefined) =>
  ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

export function nodeTable(progress: PipelineProgress): string[] {
  const w = Math.max(4, ...progress.nodes.map((n) => n.id.length));
  const lines = [
    `  ${'node'.padEnd(w)}  ${'state'.padEnd(9)}  ${'rows'.padStart(10)} ` +
      ` ${'rejected'.padStart(8)}  ${'wall'.padStart(8)}  ${'activity'.padStart(8)}`,
  ];
  for (const n of progress.nodes) {
    lines.push(
      `${SYMBOL[n.state]} ${n.id.padEnd(w)}  ${n.state.padEnd(9)}  ${fmtInt(n.rows).padStart(10)} ` +
        ` ${fmtInt(n.rejected).padStart(8)}  ${fmtMs(n.durationMs).padStart(8)}  ${fmtMs(n.activityMs).padStart(8)}` +
        (n.error ? `  ${n.error}` : ''),
    );
  }
  return lines;
}

export function workflowUrl(uiUrl: string | undefined, namespace: string, workflowId: string): string | undefined {
  return uiUrl
    ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`
    : undefined;
}

export async function watchPipelineRun(
  handle: WorkflowHandle<typeof runPipeline>,
  print: (line?: string) => void,
  opts: { intervalMs?: number } = {},
): Promise<{ ok: boolean; progress?: PipelineProgress; result?: PipelineRunResult; error?: string }> {
  const seen = new Map<string, string>();
  const announce = (p: PipelineProgress) => {
    for (const n of p.nodes) {
      if (seen.get(n.id) === n.state || n.state === 'pending') continue;
      seen.set(n.id, n.state);
      const activity = n.activityMs === undefined ? '' : ` (activity ${fmtMs(n.activityMs)})`;
      const tail =
        n.state === 'running'
          ? ''
          : `  ${fmtInt(n.rows)} rows  ${fmtMs(n.durationMs)}${activity}${n.error ? `  ${n.error}` : ''}`;
      print(`  ${SYMBOL[n.state]} ${n.id} ${n.state}${tail}`);
    }
  };
  let done = false;
  const resultP = handle.result().finally(() => {
    done = true;
  });
  resultP.catch(() => {});
  while (!done) {
    try {
      announce(await handle.query(progressQuery));
    } catch {
      // the first workflow task may not have run yet
    }
    await Promise.race([resultP.catch(() => {}), new Promise((r) => setTimeout(r, opts.intervalMs ?? 400))]);
  }
  try {
    const result = await resultP;
    announce(result);
    return { ok: true, progress: result, result };
  } catch (err) {
    let progress: PipelineProgress | undefined;
    try {
      progress = await handle.query(progressQuery);
      announce(progress);
    } catch {
      // the workflow failed before it could answer (e.g. unknown pipeline)
    }
    const message = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    return { ok: false, progress, error: message };
  }
}
