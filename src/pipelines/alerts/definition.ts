// The alerts pipeline: one node that evaluates the rules against the ledger and announces new and
// resolved incidents. Scheduled every 15 minutes (pipelines/schedules.ts); pure data for the bundle.
import type { PipelineDefinition } from '../types.js';

export const alertsPipeline: PipelineDefinition = {
  name: 'alerts',
  kind: 'incremental',
  description: 'Overdue and failed jobs, row drops and failed quality gates → the alerts table and webhooks',
  nodes: [{ id: 'evaluate_alerts', activity: 'evaluateAlerts', retryClass: 'quick' }],
};
