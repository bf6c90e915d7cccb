// The learning-sample family's lineage: sample_source.* → staging → mart.* → dashboard JSON files.
import type { FamilyLineage, NodeLineage } from '../lineage-types.js';
import { outputFile, warehouseTable } from '../lineage-types.js';

const exams = warehouseTable('staging.sample_exam_results');
const emails = warehouseTable('staging.sample_user_emails');
const facts = warehouseTable('mart.sample_exam_facts');
const daily = warehouseTable('mart.sample_daily_exam_stats');

const BY_ACTIVITY: Record<string, NodeLineage> = {
  extractSampleExams: { inputs: [warehouseTable('sample_source.exam_results')], outputs: [exams] },
  extractSampleUserEmails: { inputs: [warehouseTable('sample_source.user_emails')], outputs: [emails] },
  resolveSampleIdentities: { inputs: [exams, emails], outputs: [facts] },
  aggregateSampleDaily: { inputs: [facts], outputs: [daily] },
  loadSampleDashboard: { inputs: [daily], outputs: [outputFile('dashboard/daily_exam_stats/{date}.json')] },
  syncSampleExamsIncremental: {
    inputs: [warehouseTable('sample_source.exam_results')],
    outputs: [warehouseTable('mart.sample_exam_results_live')],
  },
};

export const learningSampleLineage: FamilyLineage = (node) => BY_ACTIVITY[node.activity];
