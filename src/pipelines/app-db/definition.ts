// The app-db → BigQuery pipelines as data. One node per table, side by side, so a failing table
// fails (and retries) alone while the others finish; each node's result carries the table's rows
// appended, merged and deleted. Neither pipeline is dated: cursors live in bq_sync_tracking.
import type { PipelineDefinition, PipelineNode } from '../types.js';
import { APP_DB_TABLES } from './tables.js';

export type AppDbSyncMode = 'incremental' | 'full';

export const APP_DB_INCREMENTAL = 'app-db-incremental';
export const APP_DB_FULL = 'app-db-full';

export function appDbNodeId(mode: AppDbSyncMode, table: string): string {
  return mode === 'full' ? `app_db_full_${table}` : `app_db_${table}`;
}

export function appDbNodes(mode: AppDbSyncMode, tables: readonly string[]): PipelineNode[] {
  return tables.map((table) => ({
    id: appDbNodeId(mode, table),
    activity: 'syncAppDbTable',
    retryClass: mode === 'full' ? 'long' : 'standard',
    input: { table, mode },
  }));
}

export const appDbIncremental: PipelineDefinition = {
  name: APP_DB_INCREMENTAL,
  kind: 'incremental',
  description: 'App database → BigQuery: new rows appended, changed rows MERGEd, per table (every 15 minutes)',
  nodes: appDbNodes('incremental', APP_DB_TABLES.map((t) => t.name)),
};

export const appDbFull: PipelineDefinition = {
  name: APP_DB_FULL,
  kind: 'incremental',
  description: 'App database → BigQuery full sync: every key compared, MERGE with UPDATE, INSERT and DELETE, new columns backfilled (daily)',
  nodes: appDbNodes('full', APP_DB_TABLES.map((t) => t.name)),
};

/** An ad-hoc full sync of some tables (admin API, `backfill`-style re-sync): same nodes, fewer of them. */
export function appDbTablesDefinition(tables: readonly string[]): PipelineDefinition {
  return {
    name: APP_DB_FULL,
    kind: 'incremental',
    description: `App database → BigQuery full sync of ${tables.join(', ')}`,
    nodes: appDbNodes('full', tables),
  };
}

export const APP_DB_PIPELINES = [appDbIncremental, appDbFull];
