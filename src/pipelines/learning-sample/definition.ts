import type { PipelineDefinition } from '../types.js';

// The foundation's small but real DAG on built-in sample data: exam results and user emails
// are copied from the source database, identities resolved, a day aggregated and loaded as a
// dashboard file. Two extracts run in parallel; everything after waits for both.
export const learningSample: PipelineDefinition = {
  name: 'learning-sample',
  kind: 'nightly',
  description: 'Sample exams → identity resolution → daily exam stats → dashboard JSON',
  nodes: [
    { id: 'extract_exam_results', activity: 'extractSampleExams', retryClass: 'standard' },
    { id: 'extract_user_emails', activity: 'extractSampleUserEmails', retryClass: 'standard' },
    {
      id: 'resolve_identities',
      activity: 'resolveSampleIdentities',
      dependsOn: ['extract_exam_results', 'extract_user_emails'],
      retryClass: 'standard',
    },
    {
      id: 'aggregate_daily_exam_stats',
      activity: 'aggregateSampleDaily',
      dependsOn: ['resolve_identities'],
      retryClass: 'quick',
    },
    {
      id: 'load_dashboard',
      activity: 'loadSampleDashboard',
      dependsOn: ['aggregate_daily_exam_stats'],
      retryClass: 'quick',
    },
  ],
};

export const learningSampleIncremental: PipelineDefinition = {
  name: 'learning-sample-incremental',
  kind: 'incremental',
  description: 'Exam results changed since the stored cursor → warehouse (every 15 minutes)',
  nodes: [{ id: 'sync_exam_results', activity: 'syncSampleExamsIncremental', retryClass: 'standard' }],
};
