// The school API family's lineage: each table node reads the API's endpoints and upserts school.*.
import type { FamilyLineage } from '../lineage-types.js';
import { apiEndpoint, warehouseTable } from '../lineage-types.js';

/** The school API (SCHOOL_API_URL); one dataset per table's collection. */
export const SCHOOL_API = 'https://school-api';

export const schoolApiLineage: FamilyLineage = (node) => {
  if (node.activity !== 'syncSchoolTables') return undefined;
  const tables = Array.isArray(node.input?.tables) ? node.input.tables.map(String) : [];
  return {
    inputs: tables.map((t) => apiEndpoint(SCHOOL_API, `/v2/${t}`)),
    outputs: tables.map((t) => warehouseTable(`school.${t}`)),
  };
};
