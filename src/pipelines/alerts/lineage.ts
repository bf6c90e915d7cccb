// The alerts family's lineage: the rules read the ledger and quality gates and write alerts.
import type { FamilyLineage } from '../lineage-types.js';
import { warehouseTable } from '../lineage-types.js';

export const alertsLineage: FamilyLineage = (node) =>
  node.activity === 'evaluateAlerts'
    ? {
        inputs: [warehouseTable('etl_job_runs'), warehouseTable('etl_quality_gates')],
        outputs: [warehouseTable('alerts')],
      }
    : undefined;
