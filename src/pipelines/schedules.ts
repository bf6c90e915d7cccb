// Every schedule learnsync manages, in one place. `learnsync schedules apply` makes Temporal
// match this list; running it twice changes nothing the second time.
import { githubIncremental } from './github/definition.js';
import { learningRoi } from './learning-roi/definition.js';
import { schoolApiIncremental } from './school-api/definition.js';
import { warehouseDimensions } from './warehouse/definition.js';

export interface ScheduleSpecConfig {
  id: string;
  pipeline: string;
  description: string;
  /** Cron expressions, UTC. */
  cron?: string[];
  /** Fixed interval, e.g. '15m', '1h'. */
  every?: string;
  force?: boolean;
}

export const SCHEDULE_ID_PREFIX = 'learnsync-';

export const SCHEDULES: readonly ScheduleSpecConfig[] = [
  {
    id: 'learnsync-nightly',
    pipeline: 'nightly',
    // One DAG for the whole night (warehouse facts, learning ROI, school API, GitHub), so their
    // jobs share one run, one Web UI page and one target date.
    description: 'Nightly pipeline for yesterday at 02:00 UTC',
    cron: ['0 2 * * *'],
  },
  {
    id: 'learnsync-incremental',
    pipeline: schoolApiIncremental.name,
    description: 'School API changes since the stored cursors every 15 minutes',
    every: '15m',
  },
  {
    id: 'learnsync-warehouse-dimensions',
    pipeline: warehouseDimensions.name,
    description: 'Warehouse dimensions (SCD2 tenant and learner, users, subjects, skills) every hour',
    every: '1h',
  },
  {
    id: 'learnsync-github-incremental',
    pipeline: githubIncremental.name,
    description: "Learners' new GitHub events every hour (conditional requests)",
    every: '1h',
  },
  {
    id: 'learnsync-learning-roi',
    pipeline: learningRoi.name,
    // Forced: each run re-extracts the lookback windows (late rows) and rebuilds the datasets.
    description: 'Learning ROI sync from Kusto every 6 hours (lookback windows, identities, datasets, files, gates)',
    cron: ['0 */6 * * *'],
    force: true,
  },
  {
    id: 'learnsync-app-db-incremental',
    pipeline: 'app-db-incremental',
    description: 'App database → BigQuery: new rows appended, changed rows MERGEd, every 15 minutes',
    every: '15m',
  },
  {
    id: 'learnsync-app-db-full',
    pipeline: 'app-db-full',
    // The seed's daily backup at 07:30 IST; also finds deletes and backfills new columns.
    description: 'App database → BigQuery full sync (every key compared, deletes applied) daily at 02:00 UTC',
    cron: ['0 2 * * *'],
  },
];

/** How far back a schedule catches up after the server or workers were down. */
export const CATCHUP_WINDOW = '6 hours';
