// The learning-ROI family's node activities: Kusto extracts, identity resolution, the datasets,
// the CSV/JSON export and the data-quality gates. Each stage lives in its own module.
import type { ActivityDeps } from '../../runtime/deps.js';
import { createLearningRoiAggregateActivities } from './datasets.js';
import { createLearningRoiExportActivities } from './export.js';
import { createKustoExtractActivities } from './extract.js';
import { createLearningRoiQualityActivities } from './gates.js';
import { createLearnerIdentityActivities } from './identity.js';

export function createLearningRoiActivities(deps: ActivityDeps) {
  return {
    ...createKustoExtractActivities(deps),
    ...createLearnerIdentityActivities(deps),
    ...createLearningRoiAggregateActivities(deps),
    ...createLearningRoiExportActivities(deps),
    ...createLearningRoiQualityActivities(deps),
  };
}
