// Every activity the worker registers: each pipeline family's factory, built from the same
// dependencies. Node activities all have the NodeActivity signature so that a pipeline can name
// any of them; activity names are global, so families must not reuse one.
import { createGithubActivities } from '../pipelines/github/activities.js';
import { createLearningRoiActivities } from '../pipelines/learning-roi/activities.js';
import { createLearningSampleActivities } from '../pipelines/learning-sample/activities.js';
import { createSchoolApiActivities } from '../pipelines/school-api/activities.js';
import { createWarehouseActivities } from '../pipelines/warehouse/activities.js';
import { createAppDbActivities } from '../pipelines/app-db/activities.js';
import type { ActivityDeps } from '../runtime/deps.js';
import { withRedactedFailures } from '../runtime/redact-failures.js';

export type { ActivityDeps } from '../runtime/deps.js';

export function createActivities(deps: ActivityDeps) {
  return withRedactedFailures({
    ...createLearningSampleActivities(deps),
    ...createSchoolApiActivities(deps),
    ...createGithubActivities(deps),
    ...createWarehouseActivities(deps),
    ...createLearningRoiActivities(deps),
    ...createAppDbActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
