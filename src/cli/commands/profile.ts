// `learnsync profile <email>`: one learner's exam history, live from Kusto (5-minute cache) or,
// when Kusto is unreachable, from the last sync — saying which. `--serve` answers the same over
// HTTP: GET /api/learners/<email>/exams.
import { buildSyncStatus } from '../../pipelines/learning-roi/status.js';
import type { Pool } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import {
  LearnerProfileService,
  startProfileServer,
  type LearnerProfile,
} from '../../pipelines/learning-roi/learner-profile.js';
import { UsageError, type CliCommand, type CliContext } from '../types.js';

function describe(p: LearnerProfile): string {
  switch (p.source) {
    case 'kusto':
      return 'live from Kusto';
    case 'cache':
      return 'from the 5-minute cache of a live Kusto read';
    case 'warehouse':
      return (
        `from the warehouse, last synced ${p.syncedAt ?? 'never'} — Kusto unreachable: ` +
        `${p.kustoError ?? 'unknown error'}`
      );
  }
}

function render(ctx: CliContext, p: LearnerProfile): void {
  const who = p.dotcomId
    ? `dotcom_id ${p.dotcomId}, resolved by ${p.resolvedBy}`
    : p.resolvedBy === 'unresolved'
      ? 'no GitHub account matched'
      : 'identity not synced yet';
  ctx.print(`${p.email} (${who})`);
  ctx.print(`exam history ${describe(p)}`);
  if (!p.exams.length) ctx.print('  (no exams)');
  for (const e of p.exams) {
    ctx.print(
      `  ${e.examDate.slice(0, 10)}  ${e.fiscalYear}  ${e.examCode.padEnd(7)} ${(e.examName ?? '').padEnd(26)} ` +
        `${e.passed ? 'passed' : 'failed'}  ` +
        `${e.score === null ? '   -' : e.score.toFixed(1).padStart(5)}${e.scoreMethod ? ` (${e.scoreMethod})` : ''}`,
    );
  }
  ctx.print(
    `${p.summary.exams} exams, ${p.summary.passed} ` +
      `passed${p.summary.certifications.length ? `; certified: ${p.summary.certifications.join(', ')}` : ''}`,
  );
}

async function warehouseOrUndefined(ctx: CliContext): Promise<Pool | undefined> {
  try {
    return await ctx.warehouse();
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message }, 'warehouse unavailable: live reads only, no fallback');
    return undefined;
  }
}

export const command: CliCommand = {
  name: 'profile',
  summary: "one learner's exam history: live from Kusto (5-minute cache), else the last synced data; --serve for HTTP",
  usage: 'learnsync profile <email> [--json] [--refresh] | learnsync profile --serve [--port N]',
  options: {
    json: { type: 'boolean' },
    refresh: { type: 'boolean' },
    serve: { type: 'boolean' },
    port: { type: 'string' },
  },
  async run(ctx, { positionals, values }) {
    const warehouse = await warehouseOrUndefined(ctx);
    const service = new LearnerProfileService({ warehouse, clusters: ctx.sources.kusto, config: ctx.config });
    if (values.serve) {
      const port = values.port === undefined ? ctx.config.learningRoi.profilePort : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be a port number, got "${String(values.port)}"`);
      const server = await startProfileServer(service, port, {
        syncStatus: warehouse ? () => buildSyncStatus(warehouse) : undefined,
      });
      ctx.print(
        `learner profiles at ${server.url}/api/learners/<email>/exams, sync status at ${server.url}/api/sync-status ` +
          `(Kusto ${ctx.config.kusto.mode}; Ctrl-C stops)`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      return 0;
    }
    const email = positionals[0];
    if (!email) throw new UsageError('name a learner: learnsync profile someone@example.com');
    let p: LearnerProfile;
    try {
      p = await service.profile(email, { refresh: values.refresh === true });
    } catch (err) {
      if (err instanceof ValidationError) throw new UsageError(err.message);
      throw err;
    }
    if (values.json) ctx.print(JSON.stringify(p, null, 2));
    else render(ctx, p);
    return 0;
  },
};
