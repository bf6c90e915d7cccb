// `learnsync plan <pipeline>`: a dry run of the API sources. Per endpoint, how many calls the next
// run would make, from the stored cursors, progress and counts; it asks the school API only for
// what it cannot know (the size of a change window) and never spends GitHub's rate limit.
import { planGithubNode } from '../../pipelines/github/plan.js';
import { createSchoolApiClient } from '../../pipelines/school-api/activities.js';
import { planSchoolNode, type PlanLine } from '../../pipelines/school-api/plan.js';
import { ApiHitRecorder } from '../../runtime/ledger/api-hits.js';
import type { SchoolApiClient } from '../../connectors/school-api/client.js';
import { dayBefore } from '../../pipelines/dates.js';
import { optionalDate, requirePipeline } from '../args.js';
import { UsageError, type CliCommand } from '../types.js';
import { planAppDbIncremental } from '../../pipelines/app-db/plan.js';
import { createAppDbDeps } from '../../stack/app-db.js';

export const command: CliCommand = {
  name: 'plan',
  summary: 'dry run of an API pipeline: the calls per endpoint the next run will make',
  usage: 'learnsync plan <pipeline> [--date YYYY-MM-DD] [--force] [--json]',
  options: { date: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const def = requirePipeline(positionals[0]);
    if (def.name === 'app-db-incremental') {
      // Rows per table the next run would move: one COUNT per table in the app database, nothing sent to BigQuery.
      const source = await createAppDbDeps(ctx.config, ctx.logger).openSource();
      const b = ctx.config.appDb.bigquery;
      const plan = await planAppDbIncremental(await ctx.warehouse(), source, `${b.projectId}.${b.datasetId}`).finally(
        () => source.close(),
      );
      if (values.json) ctx.print(JSON.stringify({ pipeline: def.name, tables: plan }, null, 2));
      else
        for (const p of plan)
          ctx.print(`  ${p.table.padEnd(24)} ${p.mode.padEnd(7)} ${String(p.rows).padStart(9)} rows  ${p.after}`);
      return 0;
    }
    let targetDate = optionalDate(values.date, '--date');
    if (def.kind === 'incremental' && targetDate)
      throw new UsageError(`${def.name} is incremental and takes no --date`);
    if (def.kind === 'nightly') targetDate ??= dayBefore(Date.now());
    const run = { targetDate, force: values.force === true };
    const warehouse = await ctx.warehouse();
    const probes = new ApiHitRecorder('school-api');
    let client: Promise<SchoolApiClient> | undefined;
    const probe = () =>
      (client ??= ctx.sources.schoolApi().then((ep) => createSchoolApiClient(ep, ctx.config, probes)));
    const sampleUsers = ctx.config.github.sample ? ((await ctx.sources.github()).sampleUsers ?? []) : [];

    const lines: PlanLine[] = [];
    const other: string[] = [];
    for (const node of def.nodes) {
      if (node.activity === 'syncSchoolTables')
        lines.push(...(await planSchoolNode(warehouse, ctx.config, node, run, probe)));
      else if (node.activity.startsWith('syncGithub'))
        lines.push(...(await planGithubNode(warehouse, ctx.config, node, run, sampleUsers)));
      else other.push(node.id);
    }
    const known = lines.every((l) => l.calls !== null);
    const total = lines.reduce((s, l) => s + (l.calls ?? 0), 0);
    const probeCalls = probes.total().calls;
    if (values.json) {
      ctx.print(
        JSON.stringify(
          {
            pipeline: def.name,
            ...run,
            lines,
            totalCalls: known ? total : null,
            minimumCalls: total,
            probeCalls,
            notApiNodes: other,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    ctx.print(
      `Plan for ${def.name}${targetDate ? ` (${targetDate})` : ''}${
        run.force ? ' with --force (bootstrap: everything)' : ''
      }`,
    );
    if (!lines.length) ctx.print('  (no API nodes in this pipeline)');
    for (const l of lines) {
      ctx.print(
        `  ${l.job.padEnd(30)} ${l.endpoint.padEnd(32)} ` +
          `${(l.calls === null ? '?' : String(l.calls)).padStart(7)} calls  ${l.mode} — ${l.basis}`,
      );
    }
    ctx.print(
      `  total: ${known ? '' : 'at least '}${total} calls (without retries)${
        probeCalls ? `; this plan asked the API ${probeCalls} time(s)` : ''
      }`,
    );
    if (other.length) ctx.print(`  not API nodes: ${other.join(', ')}`);
    return 0;
  },
};
