// Every activity the worker registers, built from its dependencies. Node activities all have the
// NodeActivity signature so that a pipeline can name any of them.
import { createLearningRoiAggregateActivities } from './aggregate/learning-roi-datasets.js';
import { createSampleAggregateActivities } from './aggregate/sample-daily.js';
import type { ActivityDeps } from './deps.js';
import { createGithubActivities } from './extract/github.js';
import { createKustoExtractActivities } from './extract/kusto-extract.js';
import { createSchoolApiActivities } from './extract/school-api.js';
import { createSampleExtractActivities } from './extract/sample-source.js';
import { createLearnerIdentityActivities } from './identity/learners.js';
import { createSampleIdentityActivities } from './identity/sample-identities.js';
import { createDashboardLoadActivities } from './load/dashboard-files.js';
import { createLearningRoiExportActivities } from './load/learning-roi-export.js';
import { createLearningRoiQualityActivities } from './quality/learning-roi-gates.js';
import { createWarehouseActivities } from './warehouse/index.js';
import { createAlertActivities } from '../pipelines/alerts/activities.js';

export type { ActivityDeps } from './deps.js';

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
    ...createAlertActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
