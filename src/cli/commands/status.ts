// `learnsync status`: alerts first, then one row per workflow run, the daily job success rate,
// running workflows and each family's section. Whatever cannot be read gets one line saying why,
// and the rest is still shown (exit 2 then). `--json`: the same report, camelCase keys (README).
import { learnsyncHint } from '../hints.js';
import { redactSecrets } from '../../secrets.js';
import { buildStatusReport, type StatusReport } from '../status-report.js';
import { statusSectionKey, STATUS_SECTIONS } from '../status-sections.js';
import { positiveInt } from '../args.js';
import { retryingText } from '../../runtime/retrying.js';
import { fmtInt, fmtMs } from '../watch-run.js';
import type { CliCommand, CliContext } from '../types.js';

const MARK = { SUCCESS: '✓', FAILED: '✗', RUNNING: '▸', SKIPPED: '↷' } as const;

function render(ctx: CliContext, r: StatusReport, highlight: (s: string) => string): void {
  if (r.alerts) {
    ctx.print(r.alerts.length ? highlight(`⚠ Alerts (${r.alerts.length} open)`) : 'Alerts: none open');
    for (const a of r.alerts)
      ctx.print(
        highlight(
          `  ⚠ ${a.openedAt.slice(0, 16).replace('T', ' ')}  ${a.rule.padEnd(12)} ${a.subject.padEnd(30)} ` +
            a.message.slice(0, 160),
        ),
      );
    ctx.print();
  }
  if (r.recentRuns) {
    ctx.print(
      `Workflow runs (last 7 days` +
        `${r.skippedRuns ? `; ${r.skippedRuns} more runs had only SKIPPED jobs — work already done` : ''})`,
    );
    if (!r.recentRuns.length) ctx.print(`  (none yet — try \`${learnsyncHint('run learning-sample')}\`)`);
    const pw = Math.max(8, ...r.recentRuns.map((x) => (x.pipeline ?? '-').length));
    const dw = Math.max(10, ...r.recentRuns.map((x) => (x.targetDate ?? '-').length));
    if (r.recentRuns.length) {
      ctx.print(
        `  ${'started'.padEnd(19)}  ${'pipeline'.padEnd(pw)}  ${'date'.padEnd(dw)}  ${'state'.padEnd(9)}  ` +
          `${'rows'.padStart(10)}  ${'rejected'.padStart(8)}  ${'duration'.padStart(8)}  workflow`,
      );
    }
    for (const x of r.recentRuns) {
      const line =
        `  ${x.startedAt.slice(0, 19).replace('T', ' ')}  ${(x.pipeline ?? '-').padEnd(pw)}  ` +
        `${(x.targetDate ?? '-').padEnd(dw)}  ` +
        `${`${MARK[x.state]} ${x.state}`.padEnd(9)}  ${fmtInt(x.rows).padStart(10)}  ` +
        `${fmtInt(x.rejected).padStart(8)}  ` +
        `${fmtMs(x.durationMs ?? undefined).padStart(8)}  ${x.workflowId ?? '(outside Temporal)'}` +
        (x.kind === 'backfill' ? ` (backfill, ${x.dates} dates)` : '') +
        (x.error ? `  ${x.error.slice(0, 100)}` : '');
      ctx.print(x.state === 'FAILED' ? highlight(line) : line);
    }
    ctx.print();
  }
  if (r.dailySuccessRate) {
    ctx.print('Daily job success rate (the final attempt of each job; last 7 days)');
    if (!r.dailySuccessRate.length) ctx.print('  (no jobs yet)');
    for (const d of r.dailySuccessRate) {
      const rate = d.successRatePercent === null ? '    -' : `${d.successRatePercent.toFixed(1).padStart(5)}%`;
      const line =
        `  ${d.date}  ${rate}  ${d.succeeded} of ${d.succeeded + d.failed} jobs succeeded, ` +
        `${d.failed} failed, ${d.skipped} skipped` +
        (d.failedAttempts ? `; ${d.failedAttempts} failed attempts retried (not in the rate)` : '');
      ctx.print(d.failed ? highlight(line) : line);
    }
    ctx.print();
  }
  if (r.runningWorkflows) {
    ctx.print('Running workflows');
    if (!r.runningWorkflows.length && !r.runningBackfillChildren) ctx.print('  (none)');
    for (const w of r.runningWorkflows) {
      ctx.print(
        `  ${w.workflowId}  ${w.pipeline ?? w.type}${w.targetDate ? ` ${w.targetDate}` : ''}  ` +
          `since ${w.startedAt.slice(0, 19).replace('T', ' ')}` +
          (w.workerBuildId ? `  worker build ${w.workerBuildId}` : ''),
      );
      for (const x of w.retrying) {
        const child = x.workflowId === w.workflowId ? '' : `${x.workflowId.slice(w.workflowId.length + 1)} `;
        ctx.print(highlight(`    ⟳ ${child}${retryingText(x)}`));
      }
    }
    // During a rollout the old and the new build both run workflows: say which runs how many.
    if (r.workerVersions && r.workerVersions.length > 1) {
      ctx.print(
        `  ${r.workerVersions.length} worker builds live: ` +
          r.workerVersions.map((v) => `${v.buildId} runs ${v.workflows}`).join(', '),
      );
    }
    if (r.runningBackfillChildren) ctx.print(`  (+ ${r.runningBackfillChildren} running dates of backfills)`);
    ctx.print();
  }
}

export const command: CliCommand = {
  name: 'status',
  summary: 'alerts, one row per workflow run, the daily job success rate, running workflows, family sections',
  usage: 'learnsync status [--json] [--limit N]',
  options: { json: { type: 'boolean' }, limit: { type: 'string' } },
  async run(ctx, { values }) {
    const limit = positiveInt(values.limit, '--limit', 30);
    const report = await buildStatusReport(ctx, { limit });
    // What could not be read: one line each on stderr, as every command reports a server it cannot
    // reach (exit 2); what could be read is still printed.
    const unreachable = [report.unreachable.warehouse, report.unreachable.temporal].filter(Boolean);
    for (const why of unreachable) console.error(redactSecrets(`learnsync status: ${why}`));
    const code = unreachable.length ? 2 : 0;
    if (values.json) {
      // Error texts come from stored rows, some older than today's masking rules: masked again here.
      ctx.print(redactSecrets(JSON.stringify(report, null, 2)));
      return code;
    }
    const tty = process.stdout.isTTY && !process.env.NO_COLOR;
    const masked = { ...ctx, print: (line?: string) => ctx.print(line === undefined ? line : redactSecrets(line)) };
    render(masked, report, (s) => (tty ? `\x1b[1;33m${s}\x1b[0m` : s));
    if (!report.unreachable.warehouse) {
      for (const s of STATUS_SECTIONS) {
        if (statusSectionKey(s) === 'rowDropAlerts') continue;
        ctx.print(s.title);
        for (const line of await s.render(ctx)) masked.print(`  ${line}`);
        ctx.print();
      }
    }
    return code;
  },
};
