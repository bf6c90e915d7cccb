// How a learnsync worker connects and what it runs: TLS/API key for Temporal Cloud, the workflow
// code (prebuilt bundle in production, bundled from source in development) and the worker itself
// from already-built activities. Shared by the standalone worker (src/worker.ts) and the local
// stack's in-process worker, so neither imports the other.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config.js';
import { createLogger } from '../logging.js';
import { activityInterceptors } from './activity-interceptor.js';
import { createErrorReporter } from './error-reporting.js';
import { activityTimingInterceptor } from './activity-timing.js';
import type { NodeLineage } from '../pipelines/lineage-types.js';
import type { NodeInput } from '../pipelines/types.js';
import { openLineageConfig, openLineageInterceptor, openLineageSink, type OpenLineageConfig } from './openlineage.js';

/**
 * TLS and API key for servers that require them (Temporal Cloud); nothing for the local dev server.
 * `tls` is always explicit: the SDK turns TLS on whenever an API key is given and `tls` is left
 * out, which would ignore TEMPORAL_TLS=false (an API key over a plain connection behind a proxy).
 */
export function temporalSecurity(config: Config): { tls: boolean; apiKey?: string } {
  return {
    tls: config.temporal.tls,
    ...(config.temporal.apiKey && { apiKey: config.temporal.apiKey }),
  };
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
export const DEFAULT_BUNDLE_PATH = (config: Config) => path.join(config.projectRoot, 'dist', 'workflow-bundle.js');

/** Production uses the prebuilt bundle (`npm run build:bundle`); development bundles from source. */
export function workflowSource(config: Config): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = config.worker.bundlePath ?? DEFAULT_BUNDLE_PATH(config);
  if (config.worker.bundlePath || (process.env.NODE_ENV === 'production' && existsSync(bundle))) {
    if (!existsSync(bundle))
      throw new Error(`WORKFLOW_BUNDLE_PATH ${bundle} does not exist: run \`npm run build:bundle\``);
    return { workflowBundle: { codePath: bundle } };
  }
  return { workflowsPath: WORKFLOWS_PATH };
}

/**
 * Latency settings measured by bench/orchestration.ts: a wave of ready nodes goes out with the
 * workflow task's completion (eager activity dispatch, up to the free activity slots) instead of a
 * round-trip through the task queue, and every activity result carries its own execution time.
 *
 * Eager dispatch needs a free activity slot at the moment the workflow task completes, and every
 * outstanding activity poll holds one: with the SDK's default of min(10, slots) pollers all slots
 * sit in long polls and Core silently drops the eager request (issue 19: 0 of 500 activities were
 * eager). Two pollers are enough for what is not dispatched eagerly (retries, other workflows'
 * activities, a full worker); the rest of the slots stay free for eager starts.
 */
export const ACTIVITY_POLLERS = 2;

export function workerTuning(config: Config): Partial<WorkerOptions> {
  const slots = config.worker.maxConcurrentActivities;
  const pollers = Math.max(1, Math.min(ACTIVITY_POLLERS, slots - 1));
  return {
    maxConcurrentActivityTaskExecutions: slots,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: pollers },
    maxEagerActivityReservationsPerWorkflowTask: Math.max(1, slots - pollers),
    interceptors: { activity: [activityTimingInterceptor] },
  };
}

/**
 * The worker's deployment version (LEARNSYNC_DEPLOYMENT_NAME / LEARNSYNC_BUILD_ID), reported with every
 * workflow task it completes, so `learnsync status` can say which build runs which workflow. Not
 * Worker Versioning's routing (useWorkerVersioning: false): compatibility across builds is kept by
 * replay tests and patched() (README, "Deploying workflow changes" says why).
 */
export function workerDeployment(
  worker: Pick<Config['worker'], 'deploymentName' | 'buildId'>,
): NonNullable<WorkerOptions['workerDeploymentOptions']> {
  return { useWorkerVersioning: false, version: { deploymentName: worker.deploymentName, buildId: worker.buildId } };
}

/**
 * lineageOf names a node's datasets (the edge composes the families' lineage.ts); with it and
 * OPENLINEAGE_URL or OPENLINEAGE_FILE set, every node attempt emits OpenLineage events (openlineage.ts).
 */
export async function createWorker(
  config: Config,
  connection: NativeConnection,
  activities: object,
  lineageOf?: (node: NodeInput) => NodeLineage,
  openLineage: OpenLineageConfig | undefined = openLineageConfig(process.env),
): Promise<Worker> {
  const logger = createLogger({ level: config.log.level });
  const ol = lineageOf && openLineage;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    ...workerTuning(config),
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds}s`,
    // Each activity's own execution time (activity-timing.ts), metrics per job and failed activities to
    // the error tracker (activity-interceptor.ts); replaces workerTuning's timing-only list.
    interceptors: {
      activity: [
        activityTimingInterceptor,
        activityInterceptors(createErrorReporter(config, logger, 'worker')),
        ...(ol
          ? [
              openLineageInterceptor(
                openLineageSink(ol, (m) => logger.warn(m)),
                ol.namespace,
                lineageOf!,
              ),
            ]
          : []),
      ],
    },
    // Heartbeats reach the server every 5 s (the SDK's default throttle is 80% of the heartbeat
    // timeout), so a 20 s heartbeat timeout has room for a busy event loop yet notices a lost worker fast.
    maxHeartbeatThrottleInterval: '5s',
    workerDeploymentOptions: workerDeployment(config.worker),
    ...workflowSource(config),
  });
}
