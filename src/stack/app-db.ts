// The app-db family's wiring, the one place that picks sample or live: the sample SQLite app
// database (generated once into the data directory) or the configured SQLite file / Postgres; the
// provisioned BigQuery emulator (started on first use, stopped on close) or real BigQuery.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openPostgresSource } from '../connectors/app-db/postgres.js';
import { openSqliteSource } from '../connectors/app-db/sqlite.js';
import { createBigQueryClient, type BigQueryTarget } from '../connectors/bigquery/client.js';
import { livenessAfterSilence } from '../connectors/http-liveness.js';
import type { AppDbDeps } from '../runtime/deps.js';
import { tableFailureReporter } from '../pipelines/app-db/error-reporter.js';
import { createErrorReporter } from '../runtime/error-reporting.js';
import { ensureSampleAppDb } from '../pipelines/app-db/sample/generate.js';
import { startBigQueryEmulator, type BigQueryEmulatorHandle } from './bigquery-emulator.js';

export function createAppDbDeps(config: Config, logger: Logger): AppDbDeps {
  const c = config.appDb;
  let emulator: Promise<BigQueryEmulatorHandle> | undefined;
  let target: Promise<BigQueryTarget> | undefined;
  let sampleReady = false;
  const makeTarget = async (): Promise<BigQueryTarget> => {
    const bq = c.bigquery;
    if (bq.mode === 'live') {
      return {
        bq: createBigQueryClient({ projectId: bq.projectId, apiEndpoint: bq.apiEndpoint, location: bq.location }),
        projectId: bq.projectId,
        datasetId: bq.datasetId,
        location: bq.location,
        liveness: livenessAfterSilence(bq.silenceSeconds),
      };
    }
    emulator ??= startBigQueryEmulator({
      projectRoot: config.projectRoot,
      projectId: bq.projectId,
      executable: bq.emulatorPath,
      restPort: bq.emulatorRestPort,
      grpcPort: bq.emulatorGrpcPort,
      onLog: (line) => logger.debug({ component: 'bqemulator' }, line.trim()),
    });
    const e = await emulator;
    logger.info({ apiEndpoint: e.apiEndpoint, project: e.projectId }, 'BigQuery emulator started');
    return {
      bq: createBigQueryClient({ projectId: e.projectId, apiEndpoint: e.apiEndpoint }),
      projectId: e.projectId,
      datasetId: bq.datasetId,
      liveness: livenessAfterSilence(bq.silenceSeconds),
    };
  };
  return {
    target() {
      target ??= makeTarget().catch((err: unknown) => {
        target = undefined;
        emulator = undefined;
        throw err;
      });
      return target;
    },
    async openSource() {
      const s = c.source;
      if (s.kind === 'postgres') return openPostgresSource(s.url, s.schema);
      if (s.kind === 'sample' && !sampleReady) {
        const { generated } = ensureSampleAppDb(s.path, { chatRows: s.chatRows });
        if (generated) logger.info({ file: s.path, chatRows: s.chatRows }, 'generated the sample app database');
        sampleReady = true;
      }
      return openSqliteSource(s.path);
    },
    errorReporter:
      c.errorTracker.kind === 'bugsnag'
        ? tableFailureReporter(createErrorReporter(config, logger, 'worker'))
        : undefined,
    async close() {
      const e = await emulator?.catch(() => undefined);
      await e?.stop();
    },
  };
}
