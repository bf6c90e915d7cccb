import type { PipelineDefinition, PipelineNode } from '../types.js';

// Learning ROI: six Kusto reads in parallel (two clusters), identity resolution in the warehouse,
// the datasets and dashboard aggregates, the CSV/JSON export, then the data-quality gates.
// Extracts are 'long': they heartbeat per window and resume after the last committed window.
const extract = (id: string, source: string): PipelineNode => ({
  id,
  activity: 'extractKustoSource',
  retryClass: 'long',
  input: { source },
});

export const learningRoi: PipelineDefinition = {
  name: 'learning-roi',
  kind: 'nightly',
  description:
    'Kusto exams, identities and usage → identity resolution → ' +
    'datasets and dashboard aggregates → CSV/JSON → quality gates',
  nodes: [
    extract('roi_extract_ace_exams', 'ace_exam_results'),
    extract('roi_extract_pearson_exams', 'pearson_exam_results'),
    extract('roi_extract_user_emails', 'user_emails'),
    extract('roi_extract_user_signups', 'user_signups'),
    extract('roi_extract_product_usage', 'product_usage'),
    extract('roi_extract_page_views', 'page_views'),
    {
      id: 'roi_resolve_identities',
      activity: 'resolveLearnerIdentities',
      dependsOn: [
        'roi_extract_ace_exams',
        'roi_extract_pearson_exams',
        'roi_extract_user_emails',
        'roi_extract_user_signups',
      ],
      retryClass: 'standard',
    },
    {
      id: 'roi_build_datasets',
      activity: 'buildLearningRoiDatasets',
      dependsOn: ['roi_resolve_identities', 'roi_extract_product_usage', 'roi_extract_page_views'],
      retryClass: 'standard',
    },
    {
      id: 'roi_export_files',
      activity: 'exportLearningRoiFiles',
      dependsOn: ['roi_build_datasets'],
      retryClass: 'standard',
    },
    {
      id: 'roi_quality_gates',
      activity: 'checkLearningRoiQuality',
      dependsOn: ['roi_export_files'],
      retryClass: 'quick',
    },
  ],
};
