// The warehouse ETL activities: five dimension syncs and five fact builds, each a ledgered job
// (skipped when already done for its date unless forced; writes + SUCCESS row in one transaction).
import { ValidationError } from '../../errors.js';
import { isValidDate } from '../dates.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { captureStarted } from '../../runtime/cdc/capture.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { requireDate } from '../../runtime/require-date.js';
import { DIM_LEARNER, DIM_SKILL, DIM_SUBJECT, DIM_TENANT, DIM_USER, type DimensionSpec } from './dimensions/specs.js';
import { syncDimension } from './dimensions/sync.js';
import { CDC_TABLES } from './dimensions/cdc-apply.js';
import { buildFact } from './facts/build.js';
import { FACT_FOCUS_EVENTS } from './facts/focus-events.js';
import { FACT_HOMEWORK_EVENTS } from './facts/homework-events.js';
import { FACT_LEARNING_PROGRESS } from './facts/learning-progress.js';
import { FACT_RECOMMENDATION_EVENTS } from './facts/recommendation-events.js';
import { FACT_SESSIONS } from './facts/sessions.js';
import type { FactSpec } from './facts/spec.js';
import { startHeartbeat } from '../../runtime/heartbeat.js';
import { ensureMonthPartition } from './partitions.js';

export function createWarehouseActivities(deps: ActivityDeps) {
  const { warehouse, oltp, logger, config } = deps;
  const rowsDropShare = config.alerts.rowsDropShare;

  /** A dimension the OLTP capture keeps (WAREHOUSE_OLTP_CAPTURE=cdc, started): its snapshot job only compares. */
  const capturedByCdc = async (spec: DimensionSpec): Promise<boolean> => {
    if (config.cdc.capture !== 'cdc' || !CDC_TABLES.some((t) => t.spec.table === spec.table)) return false;
    return captureStarted(warehouse, 'oltp');
  };

  const dimensionJob =
    (spec: DimensionSpec) =>
    async (input: NodeInput): Promise<NodeResult> => {
      // Dated when run by a nightly pipeline (one run per date in the ledger), undated when hourly.
      const targetDate = input.targetDate;
      if (targetDate !== undefined && !isValidDate(targetDate))
        throw new ValidationError(`${input.nodeId}: invalid target date "${targetDate}"`);
      const hb = startHeartbeat({ job: input.nodeId, date: targetDate });
      try {
        const checkOnly = await capturedByCdc(spec);
        const result = await runLedgeredJob(
          warehouse,
          { jobName: input.nodeId, pipeline: input.pipeline, targetDate, force: input.force, rowsDropShare },
          (tx) => syncDimension(oltp, tx, spec, { jobName: input.nodeId, targetDate, heartbeat: hb, checkOnly }),
        );
        const differing = Number(result.detail?.keysDiffering ?? 0);
        if (checkOnly && differing > 0)
          logger.warn(
            { job: input.nodeId, table: spec.table, keysDiffering: differing },
            'the dimension follows the source through CDC and was only compared: keys differ (capture lag, ' +
              'or a change the capture missed — learnsync cdc status oltp)',
          );
        return result;
      } finally {
        hb.stop();
      }
    };

  const factJob =
    (spec: FactSpec) =>
    async (input: NodeInput): Promise<NodeResult> => {
      const date = requireDate(input);
      const hb = startHeartbeat({ job: input.nodeId, date });
      const previous = hb.previous();
      if (previous)
        logger.info({ job: input.nodeId, date, previous }, 'retrying a fact build; the previous attempt rolled back');
      try {
        await ensureMonthPartition(warehouse, spec.table, date);
        return await runLedgeredJob(
          warehouse,
          { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force, rowsDropShare },
          (tx) => buildFact(oltp, tx, spec, date, { jobName: input.nodeId, heartbeat: hb }),
        );
      } finally {
        hb.stop();
      }
    };

  return {
    syncDimTenant: dimensionJob(DIM_TENANT),
    syncDimLearner: dimensionJob(DIM_LEARNER),
    syncDimUser: dimensionJob(DIM_USER),
    syncDimSubject: dimensionJob(DIM_SUBJECT),
    syncDimSkill: dimensionJob(DIM_SKILL),
    buildFactSessions: factJob(FACT_SESSIONS),
    buildFactFocusEvents: factJob(FACT_FOCUS_EVENTS),
    buildFactHomeworkEvents: factJob(FACT_HOMEWORK_EVENTS),
    buildFactLearningProgress: factJob(FACT_LEARNING_PROGRESS),
    buildFactRecommendationEvents: factJob(FACT_RECOMMENDATION_EVENTS),
  };
}

export const FACTS = [
  FACT_SESSIONS,
  FACT_FOCUS_EVENTS,
  FACT_HOMEWORK_EVENTS,
  FACT_LEARNING_PROGRESS,
  FACT_RECOMMENDATION_EVENTS,
] as const;
export { DIMENSIONS } from './dimensions/specs.js';
