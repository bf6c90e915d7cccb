// Every activity the worker registers, built from its dependencies. Node activities all have the
// NodeActivity signature so that a pipeline can name any of them.
import { createSampleAggregateActivities } from './aggregate/sample-daily.js';
import type { ActivityDeps } from './deps.js';
import { createSampleExtractActivities } from './extract/sample-source.js';
import { createSampleIdentityActivities } from './identity/sample-identities.js';
import { createDashboardLoadActivities } from './load/dashboard-files.js';
import { createWarehouseActivities } from './warehouse/index.js';

export type { ActivityDeps } from './deps.js';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSampleExtractActivities(deps),
    ...createSampleIdentityActivities(deps),
    ...createSampleAggregateActivities(deps),
    ...createDashboardLoadActivities(deps),
    ...createWarehouseActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
