// The app-db → BigQuery pipelines as data. One node per table, side by side, so a failing table
// fails (and retries) alone while the others finish; each node's result carries the table's rows
// appended, merged and deleted. Neither pipeline is dated: cursors live in bq_sync_tracking.
//
// The tables and how each one changes:
//   append: rows are only ever inserted → new rows found by id > last id, appended.
//   merge:  rows are updated in place   → changed rows found by updated_at >= last cursor, MERGEd.
// Deletes, and changes to append tables' rows, are found by the daily full sync, which compares
// every key and MERGEs with DELETE.
import type { PipelineDefinition, PipelineNode } from '../types.js';

export type TableMode = 'append' | 'merge';

export interface AppDbTable {
  name: string;
  mode: TableMode;
  /** Primary key column (one integer column in every seed table). */
  key: string;
  /** The column the incremental sync reads after: the key for append tables, updated_at for merge tables. */
  cursorColumn: string;
  group: 'core' | 'junction' | 'system';
}

const merge = (name: string, group: AppDbTable['group']): AppDbTable => ({
  name,
  mode: 'merge',
  key: 'id',
  cursorColumn: 'updated_at',
  group,
});
const append = (name: string, group: AppDbTable['group']): AppDbTable => ({
  name,
  mode: 'append',
  key: 'id',
  cursorColumn: 'id',
  group,
});

export const APP_DB_TABLES: readonly AppDbTable[] = [
  merge('organizations', 'core'),
  merge('users', 'core'),
  merge('cohorts', 'core'),
  merge('batches', 'core'),
  merge('courses', 'core'),
  merge('milestones', 'core'),
  merge('tasks', 'core'),
  merge('questions', 'core'),
  merge('scorecards', 'core'),
  append('chat_history', 'core'),
  append('task_completions', 'core'),
  append('user_organizations', 'junction'),
  append('user_cohorts', 'junction'),
  append('user_batches', 'junction'),
  append('course_cohorts', 'junction'),
  append('course_tasks', 'junction'),
  append('course_milestones', 'junction'),
  append('question_scorecards', 'junction'),
  merge('course_generation_jobs', 'system'),
  merge('task_generation_jobs', 'system'),
  append('org_api_keys', 'system'),
  merge('code_drafts', 'system'),
];

export function appDbTable(name: string): AppDbTable | undefined {
  return APP_DB_TABLES.find((t) => t.name === name);
}

/** Names not in APP_DB_TABLES, in the order given. */
export function unknownAppDbTables(names: readonly string[]): string[] {
  return names.filter((n) => !appDbTable(n));
}

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
  nodes: appDbNodes(
    'incremental',
    APP_DB_TABLES.map((t) => t.name),
  ),
};

export const appDbFull: PipelineDefinition = {
  name: APP_DB_FULL,
  kind: 'incremental',
  description:
    'App database → BigQuery full sync: every key compared, MERGE with UPDATE, INSERT and DELETE, ' +
    'new columns backfilled (daily)',
  nodes: appDbNodes(
    'full',
    APP_DB_TABLES.map((t) => t.name),
  ),
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
