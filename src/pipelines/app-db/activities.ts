// The app-db node activity: one table per call. The table's BigQuery work (schema, load job,
// MERGE) runs inside a ledgered job whose transaction also writes the table's bq_sync_tracking
// row, so the cursor commits only after BigQuery has the rows and never without its SUCCESS row.
// A failed table records its error, reports it to the error tracker and fails alone.
import type { Logger } from 'pino';
import { activityContext } from '../../runtime/activity-context.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import type { Config } from '../../config.js';
import type { Pool } from '../../connectors/postgres.js';
import { ConfigError, ValidationError } from '../../errors.js';
import type { NodeInput, NodeResult } from '../types.js';
import { postgresSource } from '../../connectors/app-db/postgres.js';
import { syncTable, type SyncMode } from './bigquery-sync.js';
import { publishTable } from './publish.js';
import type { AppDbDeps } from '../../runtime/deps.js';
import { appDbTable, type AppDbTable } from './definition.js';
import { appDbRejectSink } from './rejects.js';
import { postgresChangeLog } from './postgres-change-log.js';
import { readTracking, recordError, recordSync, trackingDataset } from './tracking.js';

export interface AppDbActivityDeps {
  warehouse: Pool;
  logger: Logger;
  config: Config;
  appDb?: AppDbDeps;
}

function tableOf(input: NodeInput): { spec: AppDbTable; mode: SyncMode } {
  const { table, mode } = input.params;
  const spec = typeof table === 'string' ? appDbTable(table) : undefined;
  if (!spec)
    throw new ValidationError(`${input.nodeId}: params.table must name an app-db table, got ${JSON.stringify(table)}`);
  if (mode !== 'incremental' && mode !== 'full')
    throw new ValidationError(`${input.nodeId}: params.mode must be "incremental" or "full"`);
  return { spec, mode };
}

export function createAppDbActivities({ warehouse, logger, config, appDb }: AppDbActivityDeps) {
  return {
    async syncAppDbTable(input: NodeInput): Promise<NodeResult> {
      const { spec, mode } = tableOf(input);
      if (!appDb)
        throw new ConfigError(
          'this worker was started without app-db dependencies (BigQuery target and source reader)',
        );
      const info = activityContext()?.info;
      const workflowId = info?.workflowExecution?.workflowId ?? null;
      const target = await appDb.target();
      const dataset = trackingDataset(target);
      const source = await appDb.openSource();
      // Beats every few seconds through the load job and the MERGE too, which can take minutes on big tables.
      const hb = startHeartbeat({ table: spec.name, mode });
      try {
        return await runLedgeredJob(
          warehouse,
          { jobName: input.nodeId, pipeline: input.pipeline, force: input.force, rowsDropShare: 1 },
          async (tx) => {
            // Full and incremental runs of one table take turns: they share its staging table and cursor.
            await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`app-db|${dataset}|${spec.name}`]);
            const tracking = await readTracking(tx, dataset, spec.name);
            const o = await syncTable(
              {
                target,
                source,
                privacy: config.appDb,
                syncMode: mode,
                tracking,
                logger,
                onProgress: (rows) => hb.report({ rows }),
                rejects: appDbRejectSink(tx, { jobName: input.nodeId, dataset, table: spec.name, mode: spec.mode }),
                beforeApply: appDb.beforeApply,
                capture: config.appDb.capture,
                changeLog:
                  config.appDb.capture === 'cdc' && source.dialect === 'postgres'
                    ? postgresChangeLog(warehouse, source)
                    : undefined,
                directLoadRowsPerJob: appDb.directLoadRowsPerJob,
                afterLoadJob: appDb.afterLoadJob,
              },
              spec,
            );
            await recordSync(tx, {
              dataset,
              table: spec.name,
              mode: spec.mode,
              syncMode: o.syncMode,
              lastRowId: o.lastRowId,
              lastCursor: o.lastCursor,
              lastCursorRows: o.lastCursorRows,
              schema: o.schema,
              read: o.read,
              appended: o.appended,
              merged: o.merged,
              deleted: o.deleted,
              rejected: o.rejected,
              rejectReason: o.rejectReason,
              columnsAdded: o.columnsAdded,
              workflowId,
              secretColumns: o.secretColumns,
              targetRows: o.targetRows,
              reset: o.reset,
              lastChangeSeq: o.lastChangeSeq,
            });
            logger.info(
              {
                table: spec.name,
                mode,
                read: o.read,
                appended: o.appended,
                merged: o.merged,
                deleted: o.deleted,
                rejected: o.rejected,
                columnsAdded: o.columnsAdded,
                columnsDropped: o.columnsDropped,
                columnsReset: o.columnsReset,
                ...(o.reset && { reset: o.reset }),
              },
              'app-db table synced to BigQuery',
            );
            return {
              processed: o.read,
              inserted: o.appended,
              updated: o.merged,
              deleted: o.deleted,
              rejected: o.rejected,
              detail: {
                table: spec.name,
                mode,
                appended: o.appended,
                merged: o.merged,
                deleted: o.deleted,
                ...(o.lastRowId !== null && { lastRowId: o.lastRowId }),
                ...(o.lastCursor !== null && { cursor: o.lastCursor }),
                ...(o.columnsAdded.length > 0 && { columnsAdded: o.columnsAdded.join(',') }),
                ...(o.columnsDropped.length > 0 && { columnsDropped: o.columnsDropped.join(',') }),
                ...(o.columnsReset.length > 0 && { columnsReset: o.columnsReset.join(',') }),
                ...(o.reset && { reset: o.reset.slice(0, 300) }),
                ...(o.lastChangeSeq !== null && { changeSeq: o.lastChangeSeq }),
                ...(o.rejectReason && { firstReject: o.rejectReason.slice(0, 200) }),
                loadMs: o.loadMs,
                applyMs: o.applyMs,
              },
            };
          },
        );
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        await recordError(warehouse, dataset, spec.name, spec.mode, error.message, workflowId);
        await appDb.errorReporter?.notify({
          table: spec.name,
          pipeline: input.pipeline,
          syncMode: mode,
          workflowId,
          attempt: info?.attempt ?? null,
          error,
        });
        throw err;
      } finally {
        hb.stop();
        await source.close();
      }
    },

    /**
     * Copies one warehouse table to BigQuery (params: table, schema = public, destination = schema_table),
     * replacing the BigQuery table whole: for teams that add BigQuery as a destination of any pipeline.
     */
    async publishWarehouseTableToBigQuery(input: NodeInput): Promise<NodeResult> {
      const { table, schema = 'public', destination } = input.params;
      if (
        typeof table !== 'string' ||
        typeof schema !== 'string' ||
        (destination !== undefined && typeof destination !== 'string')
      ) {
        throw new ValidationError(`${input.nodeId}: params.table (and optional schema, destination) must be names`);
      }
      if (!appDb) throw new ConfigError('this worker was started without app-db dependencies (BigQuery target)');
      const target = await appDb.target();
      const dest = destination ?? `${schema}_${table}`;
      const hb = startHeartbeat({ table: `${schema}.${table}` });
      return runLedgeredJob(
        warehouse,
        { jobName: input.nodeId, pipeline: input.pipeline, targetDate: input.targetDate, force: input.force },
        async (tx) => {
          // The rows stream through the job's own transaction: one warehouse connection per publish.
          const source = postgresSource({ transaction: tx }, schema);
          const rejects = appDbRejectSink(tx, {
            jobName: input.nodeId,
            dataset: trackingDataset(target),
            table: `publish ${schema}.${table}`,
            mode: 'append',
          });
          const o = await publishTable(target, source, table, dest, (rows) => hb.report({ rows }), rejects);
          logger.info(
            { table: `${schema}.${table}`, destination: dest, rows: o.loaded, rejected: o.rejected },
            'warehouse table published to BigQuery',
          );
          return {
            processed: o.read,
            inserted: o.loaded,
            rejected: o.rejected,
            detail: {
              destination: `${target.datasetId}.${dest}`,
              ...(o.rejectReason && { firstReject: o.rejectReason.slice(0, 200) }),
            },
          };
        },
      ).finally(() => hb.stop());
    },
  };
}
