// The application tables the app-db family syncs and how each one changes (pure data: the
// workflow bundle imports it through definition.ts).
//   append: rows are only ever inserted → new rows found by id > last id, appended.
//   merge:  rows are updated in place   → changed rows found by updated_at >= last cursor, MERGEd.
// Deletes, and changes to append tables' rows, are found by the daily full sync, which compares
// every key and MERGEs with DELETE.

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

const merge = (name: string, group: AppDbTable['group']): AppDbTable => ({ name, mode: 'merge', key: 'id', cursorColumn: 'updated_at', group });
const append = (name: string, group: AppDbTable['group']): AppDbTable => ({ name, mode: 'append', key: 'id', cursorColumn: 'id', group });

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
