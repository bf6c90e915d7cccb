// The app-db family's lineage: each node copies one application-database table into BigQuery.
import type { FamilyLineage } from '../lineage-types.js';

/** The application database (APP_DB_URL) and the BigQuery dataset it lands in (BIGQUERY_DATASET). */
export const APP_DB = 'postgres://app-db';
export const BIGQUERY = 'bigquery';

export const appDbLineage: FamilyLineage = (node) => {
  if (node.activity !== 'syncAppDbTable' || typeof node.input?.table !== 'string') return undefined;
  const table = node.input.table;
  return {
    inputs: [{ namespace: APP_DB, name: `public.${table}`, kind: 'table' }],
    outputs: [{ namespace: BIGQUERY, name: `{BIGQUERY_DATASET}.${table}`, kind: 'bigquery' }],
  };
};
