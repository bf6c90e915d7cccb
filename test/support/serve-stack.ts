// A whole `learnsync serve` stack for tests: a real Temporal dev server, a migrated test warehouse,
// a worker with every activity (sample sources) and the metrics/error interceptor, the server on a
// free port, and one admin and one read token.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { activityInterceptors } from '../../src/runtime/activity-interceptor.js';
import { NO_ERROR_REPORTER } from '../../src/runtime/error-reporting.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { createToken } from '../../src/server/tokens.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { temporalCliPath } from '../../src/stack/tools.js';
import { freePort, startTemporalDevServer } from '../../src/stack/temporal-dev-server.js';
import { createTestDatabases, type TestDatabases } from './databases.js';
import { bundledWorkerOptions, projectRoot, quietRuntime } from './temporal.js';
import { workerDeployment } from '../../src/runtime/worker-options.js';

export interface ServeStack {
  config: Config;
  db: TestDatabases;
  client: Client;
  server: RunningServer;
  admin: string;
  reader: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startServeStack(env: Record<string, string> = {}): Promise<ServeStack> {
  quietRuntime();
  const [temporal, db] = await Promise.all([
    startTemporalDevServer({ cliPath: temporalCliPath(projectRoot), port: await freePort(), uiPort: await freePort() }),
    createTestDatabases(),
  ]);
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'serve-stack',
    LEARNSYNC_OUTPUT_DIR: mkdtempSync(path.join(tmpdir(), 'serve-stack-')),
    ...env,
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: temporal.address });
  const logger = createLogger({ level: 'silent' });
  const sources = createSourceClients(config);
  const worker = await Worker.create({
    connection: native,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      warehouse: db.warehouse,
      oltp: db.oltp,
      outputDir: config.outputDir,
      logger,
      config,
      sources,
    }),
    interceptors: { activity: [activityInterceptors(NO_ERROR_REPORTER)] },
    // As the real worker: its build (LEARNSYNC_BUILD_ID, `dev` here) is what /api/runs/:id shows.
    workerDeploymentOptions: workerDeployment(config.worker),
    ...bundledWorkerOptions(),
  });
  const running = worker.run();
  const server = await startServer(
    {
      config,
      logger,
      warehouse: db.warehouse,
      temporal: async () => client,
      uiUrl: temporal.uiUrl,
      kusto: sources.kusto,
    },
    { host: '127.0.0.1', port: 0 },
  );
  const admin = (await createToken(db.warehouse, 'admin', 'admin')).token;
  const reader = (await createToken(db.warehouse, 'reader', 'read')).token;
  return {
    config,
    db,
    client,
    server,
    admin,
    reader,
    async api(method, p, token, body) {
      const res = await fetch(`${server.url}${p}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
    },
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
      await temporal.stop();
      await db.close();
    },
  };
}
