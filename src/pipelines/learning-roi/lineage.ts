// The learning-ROI family's lineage: Kusto tables → staging → identities → the five datasets →
// CSV/JSON files and quality gates. Pure declarations beside the definition.
import type { DatasetRef, FamilyLineage } from '../lineage-types.js';
import { outputFile, warehouseTable } from '../lineage-types.js';
import { KUSTO_SOURCES, sourceSpec } from './sources.js';

const DATASETS = ['certified_users', 'unified_users', 'individual_exams', 'product_usage', 'learning_activity'];
const VIEWS = [
  'certified_learners_by_fiscal_year',
  'pass_rate_by_exam_month',
  'usage_before_after_certification',
  'usage_certified_vs_not_yet_certified',
];
const staging = Object.values(KUSTO_SOURCES).map((s) => warehouseTable(s.stagingTable));
const identities = [
  warehouseTable('learning_roi.learner_identities'),
  warehouseTable('learning_roi.identity_conflicts'),
];
const datasets: DatasetRef[] = DATASETS.map((d) => warehouseTable(`learning_roi.${d}`));

export const learningRoiLineage: FamilyLineage = (node) => {
  if (node.activity === 'extractKustoSource') {
    const spec = sourceSpec(node.input?.source);
    if (!spec) return undefined;
    return {
      inputs: [{ namespace: `kusto://${spec.cluster}`, name: spec.origin.split(' ')[0]!, kind: 'table' }],
      outputs: [
        warehouseTable(
          spec.stagingTable,
          spec.columns.map((c) => ({ name: c.column, type: c.type })),
        ),
      ],
    };
  }
  switch (node.activity) {
    case 'resolveLearnerIdentities':
      return { inputs: staging, outputs: identities };
    case 'buildLearningRoiDatasets':
      return { inputs: [...staging, ...identities], outputs: datasets };
    case 'exportLearningRoiFiles':
      return {
        inputs: datasets,
        outputs: [
          ...DATASETS.map((d) => outputFile(`learning-roi/${d}.csv`)),
          ...VIEWS.map((v) => outputFile(`learning-roi/aggregated/${v}.json`)),
        ],
      };
    case 'checkLearningRoiQuality':
      return { inputs: [...datasets, ...identities], outputs: [warehouseTable('etl_quality_gates')] };
    default:
      return undefined;
  }
};
