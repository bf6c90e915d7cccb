// Every activity the worker registers: each pipeline family's factory, built from the same
// dependencies. Node activities all have the NodeActivity signature so that a pipeline can name
// any of them; activity names are global, so families must not reuse one.
import { createAlertActivities } from '../pipelines/alerts/activities.js';
import { createGithubActivities } from '../pipelines/github/activities.js';
import { createLearningRoiActivities } from '../pipelines/learning-roi/activities.js';
import { createLearningSampleActivities } from '../pipelines/learning-sample/activities.js';
import { createSchoolApiActivities } from '../pipelines/school-api/activities.js';
import { createWarehouseActivities } from '../pipelines/warehouse/activities.js';
import { createAppDbActivities } from '../pipelines/app-db/activities.js';
import { guardActivities } from '../runtime/activity-guard.js';
import { createCdcActivities } from '../runtime/cdc/activities.js';
import { captureBindings } from './cdc-sources.js';
import type { ActivityDeps } from '../runtime/deps.js';

export type { ActivityDeps } from '../runtime/deps.js';

/** Every activity, each heartbeating from its start, failing by cause and with its failure masked
 * (one wrapper: runtime/activity-guard.ts). */
export function createActivities(deps: ActivityDeps) {
  return guardActivities({
    ...createLearningSampleActivities(deps),
    ...createSchoolApiActivities(deps),
    ...createGithubActivities(deps),
    ...createWarehouseActivities(deps),
    ...createLearningRoiActivities(deps),
    ...createAlertActivities(deps),
    ...createAppDbActivities(deps),
    ...createCdcActivities(deps, captureBindings(deps.config, deps.oltp)),
  });
}

export type Activities = ReturnType<typeof createActivities>;
