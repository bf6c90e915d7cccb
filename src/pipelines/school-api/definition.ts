import type { PipelineDefinition } from '../types.js';

// The school API pipelines. A nightly run refreshes the school API's reference tables whole and reads the
// active tables' changes since the last nightly; the incremental run reads changes since its own
// cursor. Forcing the nightly run (`run school-api-nightly --force`) is the bootstrap: everything.
// School API nodes run one after the other, because the API's rate limit is per application.
// (Pure data: the workflow bundle imports this file, so it names tables rather than importing specs.)

const REFERENCE_TABLES = ['cursus', 'campuses', 'projects', 'achievements', 'coalitions'];
const ACTIVE_TABLES = ['users', 'projects_users', 'achievements_users', 'coalitions_users'];

export const schoolApiNightly: PipelineDefinition = {
  name: 'school-api-nightly',
  kind: 'nightly',
  description:
    'School API: reference tables (full) then users, enrolments, achievements, ' +
    'coalitions changed since the last nightly; --force = bootstrap',
  nodes: [
    { id: 'school_reference', activity: 'syncSchoolTables', retryClass: 'long', input: { tables: REFERENCE_TABLES } },
    {
      id: 'school_active',
      activity: 'syncSchoolTables',
      retryClass: 'long',
      dependsOn: ['school_reference'],
      input: { tables: ACTIVE_TABLES },
    },
  ],
};

export const schoolApiIncremental: PipelineDefinition = {
  name: 'school-api-incremental',
  kind: 'incremental',
  description:
    'School API: users, project enrolments and achievements changed since the stored cursors (every 15 minutes)',
  nodes: [
    {
      id: 'school_active_incremental',
      activity: 'syncSchoolTables',
      retryClass: 'standard',
      input: { tables: ['users', 'projects_users', 'achievements_users'] },
    },
  ],
};

export const SCHOOL_API_PIPELINES = [schoolApiNightly, schoolApiIncremental];
