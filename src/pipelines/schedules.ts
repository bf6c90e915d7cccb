// Every schedule learnsync manages, in one place. `learnsync schedules apply` makes Temporal
// match this list; running it twice changes nothing the second time.
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
    pipeline: 'learning-sample',
    description: 'Nightly pipeline for yesterday at 02:00 UTC',
    cron: ['0 2 * * *'],
  },
  {
    id: 'learnsync-incremental',
    pipeline: 'learning-sample-incremental',
    description: 'Incremental sync every 15 minutes',
    every: '15m',
  },
  {
    id: 'learnsync-warehouse-dimensions',
    pipeline: 'warehouse-dimensions',
    description: 'Warehouse dimensions (SCD2 tenant and learner, users, subjects, skills) every hour',
    every: '1h',
  },
  {
    id: 'learnsync-warehouse-facts',
    pipeline: 'warehouse-facts',
    description: 'Warehouse facts for yesterday at 02:00 UTC',
    cron: ['0 2 * * *'],
  },
];

/** How far back a schedule catches up after the server or workers were down. */
export const CATCHUP_WINDOW = '6 hours';
