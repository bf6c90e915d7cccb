import { dailySuccessRate, recentRuns } from '../../runtime/ledger/ledger-queries.js';
import { STATUS_SECTIONS } from '../status-sections.js';
import { fmtInt, fmtMs } from '../watch-run.js';
import type { CliCommand, CliContext } from '../types.js';

async function runningWorkflows(
  ctx: CliContext,
): Promise<Array<{ workflowId: string; type: string; startTime: string }> | string> {
  try {
    const client = await ctx.temporal();
    const out = [];
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      out.push({ workflowId: wf.workflowId, type: wf.type, startTime: wf.startTime.toISOString() });
      if (out.length >= 50) break;
    }
    return out;
  } catch (err) {
    return (err as Error).message;
  }
}

export const command: CliCommand = {
  name: 'status',
  summary: 'recent runs from the ledger, the daily success rate and running workflows',
  usage: 'learnsync status [--json] [--limit N]',
  options: { json: { type: 'boolean' }, limit: { type: 'string' } },
  async run(ctx, { values }) {
    const pool = await ctx.warehouse();
    const limit = Number(values.limit ?? 30) || 30;
    const [runs, daily, running] = await Promise.all([
      recentRuns(pool, limit),
      dailySuccessRate(pool),
      runningWorkflows(ctx),
    ]);
    if (values.json) {
      const sections: Record<string, unknown> = {};
      for (const s of STATUS_SECTIONS) sections[s.title] = await s.json(ctx);
      ctx.print(
        JSON.stringify({ recentRuns: runs, dailySuccessRate: daily, runningWorkflows: running, ...sections }, null, 2),
      );
      return 0;
    }
    ctx.print('Recent job runs');
    if (runs.length === 0) ctx.print('  (none yet — try `learnsync demo`)');
    for (const r of runs) {
      ctx.print(
        `  ${r.started_at.toISOString().slice(0, 19)}  ${r.job_name.padEnd(34)} ${(r.target_date ?? '-').padEnd(10)} ` +
          ` ${r.status.padEnd(7)}  ${fmtInt(r.rows_processed).padStart(10)} rows ` +
          ` ${fmtMs(r.duration_ms ?? undefined).padStart(8)}${
            r.rows_rejected ? `  ${fmtInt(r.rows_rejected)} rejected` : ''
          }` +
          (r.error_message ? `  ${r.error_message.slice(0, 80)}` : ''),
      );
    }
    ctx.print();
    ctx.print('Daily job success rate (7 days)');
    for (const d of daily)
      ctx.print(`  ${d.run_date}  ${d.success_count} succeeded  ${d.failed_count} failed  ${d.total} runs`);
    ctx.print();
    ctx.print('Running workflows');
    if (typeof running === 'string') ctx.print(`  (Temporal not reachable: ${running})`);
    else if (running.length === 0) ctx.print('  (none)');
    else for (const w of running) ctx.print(`  ${w.workflowId}  ${w.type}  since ${w.startTime}`);
    for (const s of STATUS_SECTIONS) {
      ctx.print();
      ctx.print(s.title);
      for (const line of await s.render(ctx)) ctx.print(`  ${line}`);
    }
    return 0;
  },
};
