// What a node reads and writes, as data: the dashboard's dataset graph and the OpenLineage events
// are drawn from these declarations. Pure (no I/O): every family's lineage.ts builds on it.
import type { PipelineNode } from './types.js';

export type DatasetKind = 'table' | 'file' | 'api' | 'bigquery';

export interface DatasetField {
  name: string;
  type?: string;
}

/** One dataset in OpenLineage terms: namespace (where it lives) and name (what it is called there). */
export interface DatasetRef {
  namespace: string;
  name: string;
  kind: DatasetKind;
  fields?: DatasetField[];
}

export interface NodeLineage {
  inputs: DatasetRef[];
  outputs: DatasetRef[];
}

/** A family's declarations: the lineage of one of its nodes, or undefined when the node is not its own. */
export type FamilyLineage = (node: PipelineNode) => NodeLineage | undefined;

/** The learnsync warehouse (Postgres); its host is configuration, so lineage names it logically. */
export const WAREHOUSE = 'postgres://warehouse';
/** Files written under OUTPUT_DIR. */
export const OUTPUT_FILES = 'file://output';

export const warehouseTable = (name: string, fields?: DatasetField[]): DatasetRef => ({
  namespace: WAREHOUSE,
  name,
  kind: 'table',
  ...(fields && { fields }),
});
export const outputFile = (name: string): DatasetRef => ({ namespace: OUTPUT_FILES, name, kind: 'file' });
export const apiEndpoint = (namespace: string, name: string): DatasetRef => ({ namespace, name, kind: 'api' });
