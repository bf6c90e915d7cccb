// The learning-sample family's node activities: the foundation's small example DAG (sample exams →
// identities → daily stats → dashboard JSON) and its cursor-driven incremental sync.
import type { ActivityDeps } from '../../runtime/deps.js';
import { createSampleAggregateActivities } from './daily-stats.js';
import { createDashboardLoadActivities } from './dashboard-files.js';
import { createSampleExtractActivities } from './extract.js';
import { createSampleIdentityActivities } from './identity.js';

export function createLearningSampleActivities(deps: ActivityDeps) {
  return {
    ...createSampleExtractActivities(deps),
    ...createSampleIdentityActivities(deps),
    ...createSampleAggregateActivities(deps),
    ...createDashboardLoadActivities(deps),
  };
}
