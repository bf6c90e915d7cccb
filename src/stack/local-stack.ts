// The local stack behind `learnsync demo` and `learnsync dev`: Temporal (given or the dev server
// with its Web UI), Postgres (given or embedded) and, optionally, a worker in this process.
// Only what this process started is stopped by stop().
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { ActivityDeps } from '../runtime/deps.js';
import type { Config } from '../config.js';
import { createActivities } from '../activities/index.js';
import { createWorker, temporalSecurity } from '../runtime/worker-options.js';
import { closeActivityDeps, createActivityDeps } from './activity-deps.js';
import { OLTP_DB, startEmbeddedPostgres, WAREHOUSE_DB, type PostgresHandle } from './embedded-postgres.js';
import {
  ensureSearchAttributes,
  startTemporalDevServer,
  waitForTemporal,
  type TemporalHandle,
} from './temporal-dev-server.js';
import { temporalCliPath } from './tools.js';

export interface LocalStack {
  temporalAddress: string;
  uiUrl?: string;
  warehouseUrl: string;
  oltpUrl: string;
  started: string[];
  deps?: ActivityDeps;
  stop(): Promise<void>;
}

export async function startPostgres(
  config: Config,
  logger: Logger,
): Promise<{ warehouseUrl: string; oltpUrl: string; handle?: PostgresHandle }> {
  if (config.postgres.warehouseUrl && config.postgres.oltpUrl) {
    return { warehouseUrl: config.postgres.warehouseUrl, oltpUrl: config.postgres.oltpUrl };
  }
  const handle = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'pg'),
    port: config.postgres.embeddedPort,
    onLog: (line) => logger.debug({ component: 'postgres' }, line.trim()),
  });
  return { warehouseUrl: handle.url(WAREHOUSE_DB), oltpUrl: handle.url(OLTP_DB), handle };
}

export async function startTemporal(config: Config, logger: Logger): Promise<TemporalHandle> {
  if (config.temporal.address) {
    await waitForTemporal(config.temporal.address, 10_000);
    return { address: config.temporal.address, uiUrl: config.temporal.uiUrl, startedHere: false, stop: async () => {} };
  }
  return startTemporalDevServer({
    cliPath: temporalCliPath(config.projectRoot, config.temporal.cliPath),
    port: config.temporal.devPort,
    uiPort: config.temporal.uiPort,
    dbFile: path.join(config.dataDir, 'temporal', 'dev.sqlite'),
    namespace: config.temporal.namespace,
    onLog: (line) => logger.debug({ component: 'temporal' }, line.trim()),
  });
}

export async function startLocalStack(
  config: Config,
  logger: Logger,
  opts: { worker: boolean },
): Promise<LocalStack & { worker?: Worker; workerDone?: Promise<void> }> {
  const stoppers: Array<() => Promise<void>> = [];
  const started: string[] = [];
  installQuietRuntime(config.log.level);
  try {
    const [temporal, pgs] = await Promise.all([startTemporal(config, logger), startPostgres(config, logger)]);
    if (temporal.startedHere) {
      started.push(`Temporal dev server on ${temporal.address}`);
      stoppers.push(temporal.stop);
    }
    if (pgs.handle?.startedHere) {
      started.push(`embedded Postgres on 127.0.0.1:${pgs.handle.port}`);
      stoppers.push(pgs.handle.stop);
    }
    const connection = await NativeConnection.connect({
      address: temporal.address,
      ...(temporal.startedHere ? {} : temporalSecurity(config)),
    });
    stoppers.push(() => connection.close());
    await ensureSearchAttributes(connection, config.temporal.namespace);
    let worker: Worker | undefined;
    let workerDone: Promise<void> | undefined;
    let deps: ActivityDeps | undefined;
    if (opts.worker) {
      deps = await createActivityDeps(config, pgs, logger);
      const d = deps;
      stoppers.push(() => closeActivityDeps(d));
      worker = await createWorker(config, connection, createActivities(deps));
      const w = worker;
      workerDone = w.run();
      started.push(`worker on task queue "${config.temporal.taskQueue}"`);
      stoppers.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await workerDone;
      });
    }
    return {
      temporalAddress: temporal.address,
      uiUrl: temporal.uiUrl,
      warehouseUrl: pgs.warehouseUrl,
      oltpUrl: pgs.oltpUrl,
      started,
      deps,
      worker,
      workerDone,
      stop: () => stopAll(stoppers),
    };
  } catch (err) {
    await stopAll(stoppers);
    throw err;
  }
}

async function stopAll(stoppers: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stoppers.reverse()) await stop().catch(() => {});
  stoppers.length = 0;
}

let runtimeInstalled = false;
/** The in-process worker of demo/dev would otherwise print every state change over the CLI's output. */
function installQuietRuntime(level: Config['log']['level']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdkLevel = level === 'trace' ? 'TRACE' : level === 'debug' ? 'DEBUG' : 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(sdkLevel),
    telemetryOptions: { logging: { filter: { core: sdkLevel, other: sdkLevel } } },
  });
}
