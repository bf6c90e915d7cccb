// The app-db family's configuration: its environment variables (merged into the one schema in
// src/config.ts) and the typed section built from them. No source configured → the sample SQLite
// app database; no BigQuery project → the local emulator. That choice is made here once and acted
// on only by the stack wiring.
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const optionalPort = z.coerce.number().int().min(1).max(65535).optional();
const columnList = z
  .string()
  .regex(
    /^\s*([A-Za-z_]\w*\.[A-Za-z_]\w*\s*(,\s*[A-Za-z_]\w*\.[A-Za-z_]\w*\s*)*)?$/,
    'must list table.column names separated by commas',
  )
  .optional();

export const APP_DB_ENV = {
  APP_DB_SQLITE_PATH: z.string().optional(),
  APP_DB_POSTGRES_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  APP_DB_POSTGRES_SCHEMA: z
    .string()
    .regex(/^[A-Za-z_]\w*$/, 'must be a schema name')
    .default('public'),
  APP_DB_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  APP_DB_SECRET_COLUMNS: columnList,
  APP_DB_DROP_COLUMNS: columnList,
  /** cdc: incremental syncs read a change log — SQLite triggers, or Postgres logical replication (README). */
  APP_DB_CAPTURE: z.enum(['snapshot', 'cdc']).default('snapshot'),
  APP_DB_CDC_PUBLICATION: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier')
    .default('learnsync_app_db'),
  APP_DB_CDC_SLOT: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier (slot names allow a-z, 0-9, _)')
    .default('learnsync_app_db'),
  APP_DB_SAMPLE_CHAT_ROWS: z.coerce.number().int().min(10).default(20_000),
  BIGQUERY_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a Google Cloud project id')
    .optional(),
  BIGQUERY_DATASET: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/, 'must be a BigQuery dataset name')
    .default('app_db'),
  BIGQUERY_LOCATION: z.string().optional(),
  BIGQUERY_API_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .optional(),
  BIGQUERY_EMULATOR_PATH: z.string().optional(),
  /**
   * Seconds BigQuery may answer nothing at all (not even a probe on a fresh connection) before a
   * call is abandoned as an outage; default 16 for Google's endpoint, 60 for BIGQUERY_API_ENDPOINT
   * (the emulator answers nothing while it executes a statement).
   */
  BIGQUERY_SILENCE_SECONDS: z.coerce.number().int().min(8).max(3600).optional(),
  BIGQUERY_EMULATOR_REST_PORT: optionalPort,
  BIGQUERY_EMULATOR_GRPC_PORT: optionalPort,
  BUGSNAG_API_KEY: z.string().optional(),
  BUGSNAG_NOTIFY_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .default('https://notify.bugsnag.com'),
};

export type AppDbEnv = z.infer<z.ZodObject<typeof APP_DB_ENV>>;

export type AppDbSourceConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string }
  /** Generated deterministically into the data directory by the stack wiring. */
  | { kind: 'sample'; path: string; chatRows: number };

export interface AppDbConfig {
  source: AppDbSourceConfig;
  /** HMAC-SHA256 key for secret columns (a secret: env or _FILE only). */
  hashKey: string;
  /** table → columns that leave only as keyed hashes. */
  secretColumns: Record<string, string[]>;
  /** table → columns that never leave. */
  dropColumns: Record<string, string[]>;
  /** How incremental syncs find changes: cursors (snapshot) or a change log (cdc: SQLite triggers, Postgres slot). */
  capture: 'snapshot' | 'cdc';
  /** Postgres app databases in cdc mode: the publication and logical slot of the capture source app_db. */
  cdc: { publication: string; slot: string };
  bigquery: {
    /** live: Google's API (or BIGQUERY_API_ENDPOINT); emulator: the provisioned bqemulator, started by the stack. */
    mode: 'live' | 'emulator';
    projectId: string;
    datasetId: string;
    location?: string;
    apiEndpoint?: string;
    emulatorPath?: string;
    emulatorRestPort?: number;
    emulatorGrpcPort?: number;
    /** How long the endpoint may stay silent before a call is abandoned (connectors/http-liveness.ts). */
    silenceSeconds: number;
  };
  errorTracker: { kind: 'none' } | { kind: 'bugsnag'; apiKey: string; notifyUrl: string };
}

/** The demo's key: only ever used on generated sample data. */
const SAMPLE_HASH_KEY = 'learnsync-sample-data-hash-key';
export const LOCAL_BIGQUERY_PROJECT = 'learnsync-local';

export function parseColumnList(value: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [table, column] = item.split('.') as [string, string];
    (out[table] ??= []).push(column);
  }
  return out;
}

export function appDbSection(e: AppDbEnv, dataDir: string): AppDbConfig {
  if (e.APP_DB_SQLITE_PATH && e.APP_DB_POSTGRES_URL) {
    throw new ConfigError(
      'set APP_DB_SQLITE_PATH or APP_DB_POSTGRES_URL, not both: the app-db sync reads one application database',
    );
  }
  const source: AppDbSourceConfig = e.APP_DB_SQLITE_PATH
    ? { kind: 'sqlite', path: path.resolve(e.APP_DB_SQLITE_PATH) }
    : e.APP_DB_POSTGRES_URL
      ? { kind: 'postgres', url: e.APP_DB_POSTGRES_URL, schema: e.APP_DB_POSTGRES_SCHEMA }
      : {
          kind: 'sample',
          path: path.join(dataDir, 'app-db', 'sample-app.sqlite'),
          chatRows: e.APP_DB_SAMPLE_CHAT_ROWS,
        };
  if (source.kind !== 'sample' && !e.APP_DB_HASH_KEY) {
    throw new ConfigError(
      'APP_DB_HASH_KEY (or APP_DB_HASH_KEY_FILE) is required with a real application database: ' +
        'API keys leave only as HMAC-SHA256 hashes under this key',
    );
  }
  const live = Boolean(e.BIGQUERY_PROJECT || e.BIGQUERY_API_ENDPOINT);
  if (e.BIGQUERY_API_ENDPOINT && !e.BIGQUERY_PROJECT)
    throw new ConfigError('BIGQUERY_API_ENDPOINT needs BIGQUERY_PROJECT too');
  return {
    source,
    hashKey: e.APP_DB_HASH_KEY ?? SAMPLE_HASH_KEY,
    secretColumns: parseColumnList(e.APP_DB_SECRET_COLUMNS ?? 'org_api_keys.key'),
    dropColumns: parseColumnList(e.APP_DB_DROP_COLUMNS),
    capture: e.APP_DB_CAPTURE,
    cdc: { publication: e.APP_DB_CDC_PUBLICATION, slot: e.APP_DB_CDC_SLOT },
    bigquery: {
      mode: live ? 'live' : 'emulator',
      projectId: e.BIGQUERY_PROJECT ?? LOCAL_BIGQUERY_PROJECT,
      datasetId: e.BIGQUERY_DATASET,
      location: e.BIGQUERY_LOCATION,
      apiEndpoint: e.BIGQUERY_API_ENDPOINT?.replace(/\/+$/, ''),
      emulatorPath: e.BIGQUERY_EMULATOR_PATH,
      emulatorRestPort: e.BIGQUERY_EMULATOR_REST_PORT,
      emulatorGrpcPort: e.BIGQUERY_EMULATOR_GRPC_PORT,
      silenceSeconds: e.BIGQUERY_SILENCE_SECONDS ?? (live && !e.BIGQUERY_API_ENDPOINT ? 16 : 60),
    },
    errorTracker: e.BUGSNAG_API_KEY
      ? { kind: 'bugsnag', apiKey: e.BUGSNAG_API_KEY, notifyUrl: e.BUGSNAG_NOTIFY_URL.replace(/\/+$/, '') }
      : { kind: 'none' },
  };
}
