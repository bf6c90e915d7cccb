// The local stack behind `learnsync demo` and `learnsync dev`: Temporal (given or the dev server
// with its Web UI), Postgres (given or embedded) and, optionally, a worker in this process.
// Only what this process started is stopped by stop(); a start that fails half-way stops what it
// had started before it throws; supervise() restarts a dev server or Postgres that died.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { ActivityDeps } from '../runtime/deps.js';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
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
import { lineageOfInput } from './lineage.js';
import { openLineageConfig } from '../runtime/openlineage.js';
import { startLineageReceiver } from './openlineage-receiver.js';

export interface LocalStack {
  temporalAddress: string;
  uiUrl?: string;
  warehouseUrl: string;
  oltpUrl: string;
  started: string[];
  deps?: ActivityDeps;
  stop(): Promise<void>;
  /**
   * Watches the children this stack started and restarts a dead Temporal dev server or embedded
   * Postgres (their state is on disk), telling `say` each time. Resolves with a message when one
   * cannot be brought back (then the caller stops); never while everything runs.
   */
  supervise(say: (line: string) => void): Promise<string>;
}

/** Restarts allowed per child within RESTART_WINDOW_MS before supervise() gives up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 10 * 60_000;
const POSTGRES_CHECK_MS = 2000;

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
    // A server the user named: if it does not answer, that is the setting to fix, in one line.
    await waitForTemporal(config.temporal.address, 10_000).catch((err: Error) => {
      const why = /: (.*)$/s.exec(err.message)?.[1]?.split('\n')[0]?.slice(0, 160) ?? err.message;
      throw new ConfigError(
        `TEMPORAL_ADDRESS=${config.temporal.address}: no Temporal server answered there within 10 s (${why}); ` +
          'start that server, correct TEMPORAL_ADDRESS, or unset it to let learnsync start its own dev server',
      );
    });
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
    // Both start at once; whichever started is stopped again if the other failed.
    const [t, p] = await Promise.allSettled([startTemporal(config, logger), startPostgres(config, logger)]);
    let temporal = t.status === 'fulfilled' ? t.value : undefined;
    let pgHandle = p.status === 'fulfilled' ? p.value.handle : undefined;
    if (temporal?.startedHere) {
      started.push(`Temporal dev server on ${temporal.address}`);
      stoppers.push(() => temporal!.stop());
    }
    if (pgHandle?.startedHere) {
      started.push(`embedded Postgres on 127.0.0.1:${pgHandle.port}`);
      stoppers.push(() => pgHandle!.stop());
    }
    if (t.status === 'rejected') throw t.reason;
    if (p.status === 'rejected') throw p.reason;
    const pgs = p.value;
    let stopping = false;
    const supervise = async (say: (line: string) => void): Promise<string> => {
      const restarts = { temporal: [] as number[], postgres: [] as number[] };
      const mayRestart = (which: keyof typeof restarts) => {
        const now = Date.now();
        restarts[which] = restarts[which].filter((at) => now - at < RESTART_WINDOW_MS);
        restarts[which].push(now);
        return restarts[which].length <= MAX_RESTARTS;
      };
      const watchTemporal = async (): Promise<string> => {
        for (;;) {
          const code = await (temporal!.exited ?? new Promise<never>(() => {}));
          if (stopping) return 'stopping';
          if (!mayRestart('temporal'))
            return `the Temporal dev server keeps exiting (code ${code}): stopping; see its log with LOG_LEVEL=debug`;
          say(`Temporal dev server exited (code ${code}); restarting it (workflows and schedules are kept on disk)`);
          try {
            temporal = await startTemporal(config, logger);
            say(`Temporal dev server is back on ${temporal.address}`);
          } catch (err) {
            return `the Temporal dev server exited and could not be restarted: ${(err as Error).message}`;
          }
        }
      };
      const watchPostgres = async (): Promise<string> => {
        for (;;) {
          await new Promise((r) => setTimeout(r, POSTGRES_CHECK_MS));
          if (stopping) return 'stopping';
          if (pgHandle!.alive()) continue;
          if (!mayRestart('postgres')) return 'embedded Postgres keeps dying: stopping';
          say(`embedded Postgres (pid ${pgHandle!.pid}) died; restarting it (its data is on disk)`);
          try {
            pgHandle = (await startPostgres(config, logger)).handle!;
            say(`embedded Postgres is back on 127.0.0.1:${pgHandle.port}`);
          } catch (err) {
            return `embedded Postgres died and could not be restarted: ${(err as Error).message}`;
          }
        }
      };
      const watchers: Promise<string>[] = [];
      if (temporal?.startedHere) watchers.push(watchTemporal());
      if (pgHandle?.startedHere) watchers.push(watchPostgres());
      return watchers.length ? Promise.race(watchers) : new Promise<string>(() => {});
    };
    temporal = temporal!;
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
      // Lineage goes where OPENLINEAGE_URL / OPENLINEAGE_FILE say; without them, to a local receiver
      // (GET its /api/v1/lineage to see the events), as Marquez would take them.
      let openLineage = openLineageConfig(process.env);
      if (!openLineage) {
        const receiver = await startLineageReceiver();
        stoppers.push(() => receiver.close());
        openLineage = { url: receiver.url, namespace: 'learnsync', timeoutMs: 3000 };
        started.push(`OpenLineage receiver on ${receiver.url}/api/v1/lineage`);
      }
      worker = await createWorker(config, connection, createActivities(deps), lineageOfInput, openLineage);
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
      stop: () => {
        stopping = true;
        return stopAll(stoppers);
      },
      supervise,
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
