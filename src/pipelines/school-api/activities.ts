// School REST API → warehouse (schema school). One activity serves every node: its params name the
// tables it syncs, in order. Nightly runs (a target date) use the nightly cursors and refresh the
// reference tables whole; incremental runs use their own cursors; a forced run (the bootstrap)
// reads everything. Each table commits page by page and resumes where a failed attempt stopped.
import { ApiHitRecorder } from '../../runtime/ledger/api-hits.js';
import { cancellationSignal, lastHeartbeat } from '../../runtime/activity-context.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { runPagedLedgeredJob } from '../../runtime/ledger/paged-job-runner.js';
import type { Config } from '../../config.js';
import { SchoolApiClient } from '../../connectors/school-api/client.js';
import { ValidationError } from '../../errors.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps, SchoolApiEndpoint } from '../../runtime/deps.js';
import { readProgress, syncTable, type Lane, type TableOutcome } from './sync.js';
import { schoolTable, type SchoolTableSpec } from './tables.js';

export function createSchoolApiClient(
  ep: SchoolApiEndpoint,
  config: Config,
  hits: ApiHitRecorder,
  signal?: AbortSignal,
): SchoolApiClient {
  return new SchoolApiClient({
    ...ep,
    sleepBetweenCallsMs: config.schoolApi.sleepBetweenCallsMs,
    maxRetries: config.schoolApi.maxRetries,
    backoffScale: config.apiBackoffScale,
    onCall: hits.record,
    signal,
  });
}

export function tablesOf(input: NodeInput): SchoolTableSpec[] {
  const tables = input.params.tables;
  if (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === 'string')) {
    throw new ValidationError(`${input.nodeId}: params.tables must list school API tables, e.g. ["users"]`);
  }
  try {
    return tables.map((t) => schoolTable(t as string));
  } catch (err) {
    throw new ValidationError(`${input.nodeId}: ${(err as Error).message}`);
  }
}

export const laneOf = (input: NodeInput): Lane => (input.targetDate ? 'nightly' : 'incremental');

export function createSchoolApiActivities({ warehouse, config, logger, sources }: ActivityDeps) {
  return {
    async syncSchoolTables(input: NodeInput): Promise<NodeResult> {
      const specs = tablesOf(input);
      const hits = new ApiHitRecorder('school-api');
      const lane = laneOf(input);
      const outcomes: TableOutcome[] = [];
      const hb = startHeartbeat({ tables: specs.map((s) => s.name) });
      try {
        const result = await runPagedLedgeredJob(
          warehouse,
          { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force, hits },
          async (job) => {
            const previous = lastHeartbeat<unknown>();
            if (previous)
              logger.info({ job: input.nodeId, heartbeat: previous }, 'retrying after an attempt that stopped');
            const client = createSchoolApiClient(await sources.schoolApi(), config, hits, cancellationSignal());
            const progress = await readProgress(warehouse, input.nodeId);
            for (const spec of specs) {
              hb.report({ table: spec.name });
              const o = await syncTable(
                {
                  job,
                  pool: warehouse,
                  client,
                  jobName: input.nodeId,
                  targetDate: input.targetDate,
                  runKey: input.targetDate ?? 'incremental',
                  lane,
                  force: input.force,
                  pageSize: config.schoolApi.pageSize,
                  scope: config.schoolApi.scope,
                  logger,
                },
                spec,
                progress.get(spec.name),
              );
              outcomes.push(o);
              const h = hits.total();
              logger.info(
                {
                  job: input.nodeId,
                  table: o.table,
                  mode: o.mode,
                  pages: o.pages,
                  rows: o.loaded,
                  rejected: o.rejected,
                  deleted: o.deleted,
                  cursor: o.cursor,
                  calls: h.calls,
                  rateLimitRemaining: h.rateLimitRemaining,
                },
                'school API table synced',
              );
            }
            const sum = (k: 'read' | 'inserted' | 'updated' | 'rejected' | 'deleted') =>
              outcomes.reduce((s, o) => s + o[k], 0);
            const total = hits.total();
            return {
              processed: sum('read'),
              inserted: sum('inserted'),
              updated: sum('updated'),
              deleted: sum('deleted'),
              rejected: sum('rejected'),
              detail: {
                tables: outcomes.map((o) => `${o.table}:${o.mode}:${o.pages}p`).join(','),
                calls: total.calls,
                retries: total.retries,
                throttled: total.throttled,
                ...(total.rateLimitRemaining !== undefined && { rateLimitRemaining: total.rateLimitRemaining }),
              },
            };
          },
          {
            onSuccess: async (tx) => {
              await tx.query(`UPDATE api_extract_progress SET state = 'idle', updated_at = now() WHERE job_name = $1`, [
                input.nodeId,
              ]);
            },
          },
        );
        return result;
      } finally {
        hb.stop();
      }
    },
  };
}
