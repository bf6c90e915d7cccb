// Every activity the worker registers, built from its dependencies. Node activities all have the
// NodeActivity signature so that a pipeline can name any of them.
import { createLearningRoiAggregateActivities } from '../pipelines/learning-roi/datasets.js';
import { createSampleAggregateActivities } from '../pipelines/learning-sample/daily-stats.js';
import type { ActivityDeps } from '../runtime/deps.js';
import { createGithubActivities } from '../pipelines/github/activities.js';
import { createKustoExtractActivities } from '../pipelines/learning-roi/extract.js';
import { createSchoolApiActivities } from '../pipelines/school-api/activities.js';
import { createSampleExtractActivities } from '../pipelines/learning-sample/extract.js';
import { createLearnerIdentityActivities } from '../pipelines/learning-roi/identity.js';
import { createSampleIdentityActivities } from '../pipelines/learning-sample/identity.js';
import { createDashboardLoadActivities } from '../pipelines/learning-sample/dashboard-files.js';
import { createLearningRoiExportActivities } from '../pipelines/learning-roi/export.js';
import { createLearningRoiQualityActivities } from '../pipelines/learning-roi/gates.js';
import { createWarehouseActivities } from '../pipelines/warehouse/activities.js';

export type { ActivityDeps } from '../runtime/deps.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSampleExtractActivities(deps),
    ...createSampleIdentityActivities(deps),
    ...createSampleAggregateActivities(deps),
    ...createDashboardLoadActivities(deps),
    ...createSchoolApiActivities(deps),
    ...createGithubActivities(deps),
    ...createWarehouseActivities(deps),
    ...createKustoExtractActivities(deps),
    ...createLearnerIdentityActivities(deps),
    ...createLearningRoiAggregateActivities(deps),
    ...createLearningRoiExportActivities(deps),
    ...createLearningRoiQualityActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
