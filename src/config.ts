// Environment → one typed, validated config. Parsed once; every other module takes what it needs from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { APP_DB_ENV, appDbSection, type AppDbConfig } from './config-app-db.js';
import { registerSecrets, urlCredentials } from './secrets.js';

const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const intFromEnv = (def: number) => z.coerce.number().int().positive().default(def);
const boolFromEnv = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const secondsFromEnv = (def: number) => z.coerce.number().min(0).default(def);
/** An http(s) URL that carries no credentials: those go in the variables named by `useInstead`. */
const httpUrl = (useInstead: string) =>
  z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .refine((v) => !urlCredentials(v), {
      message:
        'must not carry credentials (user:password@ or a token parameter), which would reach logs and the ledger: ' +
        `remove them and use ${useInstead}`,
    })
    .optional();
const pgUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
  .optional();

/** About ten years of dates: a backfill over more asks for --max-dates or --yes. */
export const DEFAULT_BACKFILL_MAX_DATES = 3660;

const schema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('learnsync'),
  TEMPORAL_DEV_PORT: intFromEnv(7233),
  TEMPORAL_UI_PORT: intFromEnv(8233),
  TEMPORAL_UI_URL: z
    .string()
    .url()
    // Printed as a link for people to open: javascript:, data: or file: would run or read something.
    .regex(/^https?:\/\/[^\s]+$/i, 'must be an http(s) URL (it is printed as a link to the Temporal Web UI)')
    .refine((v) => !urlCredentials(v), {
      message: 'must not carry credentials: it is printed for people to open; put the server behind its own login',
    })
    .optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: intFromEnv(8),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: intFromEnv(8),
  WORKER_SHUTDOWN_GRACE_SECONDS: intFromEnv(30),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  // Which code a worker runs (issue 21): the image sets LEARNSYNC_BUILD_ID at build time; the worker
  // reports it to Temporal as its deployment version, and `learnsync status` shows it per running workflow.
  LEARNSYNC_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, {
      message: 'must be 1-100 letters, digits, ".", "_", "+" or "-" (e.g. the image tag or git commit)',
    })
    .default('dev'),
  LEARNSYNC_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, { message: 'must be letters, digits, "_" or "-" (e.g. learnsync)' })
    .default('learnsync'),
  // Benchmarks (bench/*): their own Postgres, Temporal and sample-server ports; a free port when unset.
  BENCH_PG_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BENCH_TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BENCH_TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BENCH_API_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BENCH_BIGQUERY_REST_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  BENCH_BIGQUERY_GRPC_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  RETRY_OUTAGE_WINDOW_MINUTES: z.coerce
    .number()
    .min(0)
    .max(24 * 60)
    .default(30),
  DATABASE_URL: pgUrl,
  WAREHOUSE_DATABASE_URL: pgUrl,
  OLTP_DATABASE_URL: pgUrl,
  // Issue 18: how the warehouse reads the OLTP dimensions — nightly full snapshots, or change data
  // capture through logical replication (needs wal_level=logical on the source; README "CDC").
  WAREHOUSE_OLTP_CAPTURE: z.enum(['cdc', 'snapshot']).default('snapshot'),
  WAREHOUSE_CDC_PUBLICATION: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier')
    .default('learnsync_cdc'),
  WAREHOUSE_CDC_SLOT: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier (slot names allow a-z, 0-9, _)')
    .default('learnsync_cdc'),
  WAREHOUSE_CDC_LAG_ALERT_SECONDS: intFromEnv(300),
  // Below the ephemeral range 32768-60999, where an outgoing connection can hold a port at random.
  EMBEDDED_PG_PORT: intFromEnv(15432),
  LEARNSYNC_DATA_DIR: z.string().default(path.join(projectRoot, '.data')),
  LEARNSYNC_OUTPUT_DIR: z.string().default(path.join(projectRoot, 'output')),
  LEARNSYNC_ROWS_DROP_ALERT: z.coerce.number().min(0).max(1).default(0.5),
  LEARNSYNC_BACKFILL_MAX_DATES: intFromEnv(DEFAULT_BACKFILL_MAX_DATES),
  CSV_NEUTRALISE_FORMULAS: boolFromEnv(true),
  SAMPLE_DAYS: intFromEnv(7),
  SAMPLE_EXAMS_PER_DAY: intFromEnv(2000),
  // Warehouse ETL (issue 3): size of the generated OLTP source the demo seeds.
  OLTP_SAMPLE_TENANTS: intFromEnv(10),
  OLTP_SAMPLE_LEARNERS: intFromEnv(10_000),
  OLTP_SAMPLE_EVENTS_PER_DAY: z.coerce.number().int().min(20).default(200_000),
  // API sources (issue 5). No credentials → the local sample servers stand in for the APIs.
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_ORG: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub organisation login')
    .optional(),
  GITHUB_API_URL: httpUrl('GITHUB_TOKEN (or GITHUB_TOKEN_FILE)'),
  GITHUB_SKILLS_ORG: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub organisation login')
    .default('skills'),
  GITHUB_TRACKED_USERS: z.string().optional(),
  GITHUB_MAX_RETRIES: intFromEnv(4),
  // Copilot metrics: the usage-metrics reports API (github.com, GHE.com) or, for GitHub Enterprise
  // Server versions that still have it, the retired /orgs/{org}/copilot/metrics endpoint.
  GITHUB_COPILOT_API: z.enum(['reports', 'legacy']).default('reports'),
  GITHUB_ENTERPRISE: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub enterprise slug')
    .optional(),
  SCHOOL_API_URL: httpUrl('SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET (or SCHOOL_API_CLIENT_SECRET_FILE)'),
  SCHOOL_API_TOKEN_URL: httpUrl('SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET (or SCHOOL_API_CLIENT_SECRET_FILE)'),
  SCHOOL_API_CLIENT_ID: z.string().optional(),
  SCHOOL_API_CLIENT_SECRET: z.string().optional(),
  SCHOOL_API_PAGE_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  SCHOOL_API_MAX_RETRIES: intFromEnv(6),
  SCHOOL_API_CURSUS_ID: intFromEnv(21),
  SCHOOL_API_USER_KIND: z.string().min(1).default('student'),
  SCHOOL_API_INCLUDE_ALUMNI: boolFromEnv(false),
  SLEEP_BETWEEN_CALLS: secondsFromEnv(0.6),
  API_BACKOFF_SCALE: z.coerce.number().min(0).max(10).default(1),
  SAMPLE_SCHOOL_API_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SAMPLE_GITHUB_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SAMPLE_KUSTO_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SAMPLE_API_CHANGES_PER_MINUTE: z.coerce.number().int().min(0).default(5),
  // Kusto / learning ROI (issue 4). No cluster URLs → the built-in sample source answers over the Kusto protocol.
  KUSTO_ANALYTICS_CLUSTER_URL: httpUrl('KUSTO_AUTH with KUSTO_CLIENT_SECRET or KUSTO_ACCESS_TOKEN (or their _FILE)'),
  KUSTO_EXAM_CLUSTER_URL: httpUrl('KUSTO_AUTH with KUSTO_CLIENT_SECRET or KUSTO_ACCESS_TOKEN (or their _FILE)'),
  KUSTO_EXAM_DATABASE: z.string().min(1).default('ACE'),
  KUSTO_AUTH: z.enum(['default', 'app-key', 'managed-identity', 'access-token']).default('default'),
  KUSTO_TENANT_ID: z.string().optional(),
  KUSTO_CLIENT_ID: z.string().optional(),
  KUSTO_CLIENT_SECRET: z.string().optional(),
  KUSTO_ACCESS_TOKEN: z.string().optional(),
  KUSTO_QUERY_TIMEOUT_SECONDS: intFromEnv(300),
  KUSTO_WINDOW_DAYS: z.coerce.number().int().min(1).max(366).optional(),
  KUSTO_PARTITIONS: z.coerce.number().int().min(1).max(256).default(4),
  KUSTO_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(366).default(3),
  KUSTO_HISTORY_START: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
    .default('2021-07-01'),
  LEARNING_ROI_SAMPLE_SCALE: z.coerce.number().positive().max(50).default(1),
  LEARNING_ROI_LIVE_CACHE_SECONDS: z.coerce.number().int().min(0).default(300),
  LEARNING_ROI_PROFILE_PORT: intFromEnv(8787),
  LEARNING_ROI_ROW_BAND: z.coerce.number().min(0).max(10).default(0.25),
  LEARNING_ROI_ROW_GATE: z.enum(['warn', 'fail']).default('warn'),
  LEARNING_ROI_IDENTITY_MIN_RATE: z.coerce.number().min(0).max(1).default(0.65),
  LEARNING_ROI_IDENTITY_GATE: z.enum(['warn', 'fail']).default('fail'),
  LEARNING_ROI_SCORE_COVERAGE_MIN: z.coerce.number().min(0).max(1).default(0.95),
  LEARNING_ROI_SCORE_GATE: z.enum(['warn', 'fail']).default('fail'),
  // Operating it (issue 12): `learnsync serve`, metrics, alerts, error reporting.
  SERVE_HOST: z.string().min(1).default('127.0.0.1'),
  SERVE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  SERVE_ALLOWED_HOSTS: z.string().optional(),
  SERVE_RATE_LIMIT_PER_MINUTE: intFromEnv(300),
  SERVE_MAX_LIVE_QUERIES: intFromEnv(4),
  SERVE_REFRESH_PER_MINUTE: intFromEnv(6),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  ALERT_WEBHOOK_URLS: z.string().optional(),
  ALERT_SLACK_WEBHOOK_URLS: z.string().optional(),
  ALERT_WEBHOOK_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  ALERT_NIGHTLY_DEADLINE_UTC: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)')
    .default('06:00'),
  ALERT_INCREMENTAL_INTERVALS: z.coerce.number().min(1).max(100).default(3),
  ALERT_EXPECTED_WINDOWS: z.string().optional(),
  ALERT_RETRYING_AFTER: z
    .string()
    .regex(/^\d+[smh]$/, 'must be a duration such as 90s, 10m or 2h')
    .default('10m'),
  ERROR_REPORTING_API_KEY: z.string().optional(),
  ERROR_REPORTING_ENDPOINT: httpUrl('ERROR_REPORTING_API_KEY for the key'),
  ERROR_REPORTING_ENVIRONMENT: z.string().min(1).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LEARNSYNC_PRETTY_LOGS: boolFromEnv(false),
  // App database → BigQuery (issue 9): variables in src/pipelines/app-db/config.ts.
  ...APP_DB_ENV,
});

export type RawConfig = z.infer<typeof schema>;

export interface Config {
  projectRoot: string;
  temporal: {
    /** undefined → the local dev server is started (or reused) on devPort */
    address?: string;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
    uiUrl?: string;
    cliPath?: string;
    testServerPath?: string;
    /** API key for Temporal Cloud or another server that asks for one (a secret: env or _FILE only). */
    apiKey?: string;
    tls: boolean;
  };
  worker: {
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    shutdownGraceSeconds: number;
    bundlePath?: string;
    /** The worker's deployment version: which build of the workflow code it runs. */
    deploymentName: string;
    buildId: string;
  };
  /** Ports the benchmarks use; undefined → a free port. */
  bench: {
    pgPort?: number;
    temporalPort?: number;
    temporalUiPort?: number;
    apiPort?: number;
    bigqueryRestPort?: number;
    bigqueryGrpcPort?: number;
  };
  /** Infrastructure failures retry for this long (handed to workflows in their input). */
  retry: { outageWindowMinutes: number };
  postgres: {
    /** undefined → embedded Postgres serves both databases */
    warehouseUrl?: string;
    oltpUrl?: string;
    embeddedPort: number;
  };
  /** Change data capture of the OLTP dimensions (issue 18). */
  cdc: { capture: 'cdc' | 'snapshot'; publication: string; slot: string; lagAlertSeconds: number };
  dataDir: string;
  outputDir: string;
  alerts: { rowsDropShare: number };
  /** Largest backfill (in dates) started without --max-dates/--yes. */
  backfill: { maxDates: number };
  /** CSV cells starting with = + - @ tab CR get a leading ' (off for machine consumers). */
  outputs: { neutraliseFormulas: boolean };
  sample: { days: number; examsPerDay: number };
  /** Scale of the generated OLTP source (demo): tenants, learners, session events a day. */
  oltpSample: { tenants: number; learners: number; eventsPerDay: number };
  github: {
    /** undefined together with apiUrl → sample mode (the local GitHub sample server). */
    token?: string;
    org?: string;
    apiUrl?: string;
    skillsOrg: string;
    /** Logins added to github.tracked_users on every events sync. */
    trackedUsers: string[];
    maxRetries: number;
    sample: boolean;
    /** 'reports': the Copilot usage metrics reports API; 'legacy': /orgs/{org}/copilot/metrics (old GHES). */
    copilotApi: 'reports' | 'legacy';
    /** Enterprise slug: its Copilot reports are read too (reports API only). */
    enterprise?: string;
  };
  schoolApi: {
    baseUrl?: string;
    tokenUrl?: string;
    clientId?: string;
    clientSecret?: string;
    pageSize: number;
    maxRetries: number;
    sleepBetweenCallsMs: number;
    /** Which users the active tables follow: configuration, not code. */
    scope: { cursusId: number; userKind: string; includeAlumni: boolean };
    sample: boolean;
  };
  /** Multiplies every API wait (Retry-After, backoff); tests set it near 0. */
  apiBackoffScale: number;
  /** The local sample servers: how fast records change, and their ports (undefined → free ports). */
  sampleApi: { changesPerMinute: number; schoolApiPort?: number; githubPort?: number; kustoPort?: number };
  kusto: KustoConfig;
  learningRoi: LearningRoiConfig;
  appDb: AppDbConfig;
  log: { level: RawConfig['LOG_LEVEL']; pretty: boolean };
  serve: ServeConfig;
  alerting: AlertingConfig;
  errorReporting: ErrorReportingConfig;
}

export interface ServeConfig {
  host: string;
  port: number;
  /** Host header values (host or host:port, lower case) the server answers; anything else gets 421. */
  allowedHosts: string[];
  rateLimitPerMinute: number;
  /** Live Kusto reads in flight at once across all requests; more get 503 with Retry-After. */
  maxLiveQueries: number;
  /** `?refresh=1` (bypass the live-read cache) allowed this many times a minute per token. */
  refreshPerMinute: number;
  /** undefined → the worker exposes no metrics endpoint. */
  workerMetricsPort?: number;
  workerMetricsHost: string;
}

export interface AlertingConfig {
  /** Generic JSON webhooks and Slack-compatible incoming webhooks (secrets: env or _FILE). */
  webhooks: Array<{ kind: 'generic' | 'slack'; url: string }>;
  retries: number;
  /** Nightly pipelines must have succeeded for yesterday by this UTC time of day (minutes after midnight). */
  nightlyDeadlineMinutes: number;
  /** Incremental pipelines must succeed within this many schedule intervals. */
  incrementalIntervals: number;
  /** Per-pipeline overrides: nightly → HH:MM deadline, incremental → a duration such as 45m or 2h. */
  expectedWindows: Record<string, string>;
  /** A run retrying a failing node for longer than this opens a `retrying` alert (ALERT_RETRYING_AFTER). */
  retryingAfterMs: number;
}

export interface ErrorReportingConfig {
  /** undefined → errors are only logged. */
  apiKey?: string;
  /** Notify endpoint of a self-hosted or fake collector; default the tracker's own. */
  endpoint?: string;
  environment: string;
}

/** `FOO_FILE=/run/secrets/foo` stands in for `FOO`, so secrets can come from mounted files. */
function withFileSecrets(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(env)) {
    if (!key.endsWith('_FILE') || !value) continue;
    const target = key.slice(0, -'_FILE'.length);
    if (!(target in schema.shape) || out[target]) continue;
    try {
      out[target] = readFileSync(value, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${key} points at ${value}, which cannot be read: ${(err as Error).message}`);
    }
  }
  for (const [k, v] of Object.entries(out)) if (v === '') delete out[k];
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = withFileSecrets(env);
  const parsed = schema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Every credentialled URL is named, whatever else is wrong (one message per variable).
  const named = new Set(problems.map((p) => p.slice(0, p.indexOf(':'))));
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => k in schema.shape && !named.has(k)));
  problems.push(...credentialledUrlVariables(known));
  if (!parsed.success || problems.length) throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
  const e = parsed.data;
  const warehouseUrl = e.WAREHOUSE_DATABASE_URL ?? e.DATABASE_URL;
  // Every secret value is known to the one masking function before anything can log it.
  registerSecrets([
    e.GITHUB_TOKEN,
    e.SCHOOL_API_CLIENT_SECRET,
    e.KUSTO_CLIENT_SECRET,
    e.KUSTO_ACCESS_TOKEN,
    e.TEMPORAL_API_KEY,
    e.ERROR_REPORTING_API_KEY,
    // Incoming-webhook URLs are credentials in themselves.
    ...csv(e.ALERT_WEBHOOK_URLS),
    ...csv(e.ALERT_SLACK_WEBHOOK_URLS),
    e.APP_DB_HASH_KEY,
    e.BUGSNAG_API_KEY,
    ...[e.WAREHOUSE_DATABASE_URL, e.DATABASE_URL, e.OLTP_DATABASE_URL, e.APP_DB_POSTGRES_URL].map(urlPassword),
  ]);
  return {
    projectRoot,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL,
      cliPath: e.TEMPORAL_CLI_PATH,
      testServerPath: e.TEMPORAL_TEST_SERVER_PATH,
      apiKey: e.TEMPORAL_API_KEY,
      // An API key only travels over TLS; plain TLS (mTLS-free) can be asked for on its own.
      tls: e.TEMPORAL_TLS ? ['true', '1', 'yes'].includes(e.TEMPORAL_TLS) : e.TEMPORAL_API_KEY !== undefined,
    },
    worker: {
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
      bundlePath: e.WORKFLOW_BUNDLE_PATH,
      deploymentName: e.LEARNSYNC_DEPLOYMENT_NAME,
      buildId: e.LEARNSYNC_BUILD_ID,
    },
    retry: { outageWindowMinutes: e.RETRY_OUTAGE_WINDOW_MINUTES },
    bench: {
      pgPort: e.BENCH_PG_PORT,
      temporalPort: e.BENCH_TEMPORAL_PORT,
      temporalUiPort: e.BENCH_TEMPORAL_UI_PORT,
      apiPort: e.BENCH_API_PORT,
      bigqueryRestPort: e.BENCH_BIGQUERY_REST_PORT,
      bigqueryGrpcPort: e.BENCH_BIGQUERY_GRPC_PORT,
    },
    postgres: {
      warehouseUrl,
      // One server is enough for a small install: the OLTP source defaults to the warehouse's server.
      oltpUrl: e.OLTP_DATABASE_URL ?? warehouseUrl,
      embeddedPort: e.EMBEDDED_PG_PORT,
    },
    cdc: {
      capture: e.WAREHOUSE_OLTP_CAPTURE,
      publication: e.WAREHOUSE_CDC_PUBLICATION,
      slot: e.WAREHOUSE_CDC_SLOT,
      lagAlertSeconds: e.WAREHOUSE_CDC_LAG_ALERT_SECONDS,
    },
    dataDir: path.resolve(e.LEARNSYNC_DATA_DIR),
    outputDir: path.resolve(e.LEARNSYNC_OUTPUT_DIR),
    alerts: { rowsDropShare: e.LEARNSYNC_ROWS_DROP_ALERT },
    backfill: { maxDates: e.LEARNSYNC_BACKFILL_MAX_DATES },
    outputs: { neutraliseFormulas: e.CSV_NEUTRALISE_FORMULAS },
    sample: { days: e.SAMPLE_DAYS, examsPerDay: e.SAMPLE_EXAMS_PER_DAY },
    oltpSample: {
      tenants: e.OLTP_SAMPLE_TENANTS,
      learners: e.OLTP_SAMPLE_LEARNERS,
      eventsPerDay: e.OLTP_SAMPLE_EVENTS_PER_DAY,
    },
    github: {
      token: e.GITHUB_TOKEN,
      org: e.GITHUB_ORG,
      apiUrl: e.GITHUB_API_URL?.replace(/\/+$/, ''),
      skillsOrg: e.GITHUB_SKILLS_ORG,
      trackedUsers: (e.GITHUB_TRACKED_USERS ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      maxRetries: e.GITHUB_MAX_RETRIES,
      sample: !e.GITHUB_TOKEN && !e.GITHUB_API_URL,
      copilotApi: e.GITHUB_COPILOT_API,
      enterprise: e.GITHUB_ENTERPRISE,
    },
    schoolApi: schoolApiSection(e),
    apiBackoffScale: e.API_BACKOFF_SCALE,
    sampleApi: {
      changesPerMinute: e.SAMPLE_API_CHANGES_PER_MINUTE,
      schoolApiPort: e.SAMPLE_SCHOOL_API_PORT,
      githubPort: e.SAMPLE_GITHUB_PORT,
      kustoPort: e.SAMPLE_KUSTO_PORT,
    },
    kusto: kustoSection(e),
    learningRoi: learningRoiSection(e),
    appDb: appDbSection(e, path.resolve(e.LEARNSYNC_DATA_DIR)),
    log: { level: e.LOG_LEVEL, pretty: e.LEARNSYNC_PRETTY_LOGS },
    ...operateSections(e),
  };
}

const csv = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function operateSections(e: RawConfig): Pick<Config, 'serve' | 'alerting' | 'errorReporting'> {
  const windows: Record<string, string> = {};
  for (const pair of csv(e.ALERT_EXPECTED_WINDOWS)) {
    const m = /^([a-z0-9-]+)=(\d{2}:\d{2}|\d+[mh])$/.exec(pair);
    if (!m)
      throw new ConfigError(
        `ALERT_EXPECTED_WINDOWS: "${pair}" must be pipeline=HH:MM (nightly) or pipeline=<N>m|<N>h (incremental)`,
      );
    windows[m[1]!] = m[2]!;
  }
  const hooks = (kind: 'generic' | 'slack', v: string | undefined, name: string) =>
    csv(v).map((url) => {
      if (!/^https?:\/\/\S+$/.test(url)) throw new ConfigError(`${name}: every entry must be an http(s) URL`);
      return { kind, url };
    });
  const [hh, mm] = e.ALERT_NIGHTLY_DEADLINE_UTC.split(':').map(Number);
  return {
    serve: {
      host: e.SERVE_HOST,
      port: e.SERVE_PORT,
      allowedHosts: csv(e.SERVE_ALLOWED_HOSTS ?? 'localhost,127.0.0.1,[::1]').map((h) => h.toLowerCase()),
      rateLimitPerMinute: e.SERVE_RATE_LIMIT_PER_MINUTE,
      maxLiveQueries: e.SERVE_MAX_LIVE_QUERIES,
      refreshPerMinute: e.SERVE_REFRESH_PER_MINUTE,
      workerMetricsPort: e.WORKER_METRICS_PORT,
      workerMetricsHost: e.WORKER_METRICS_HOST,
    },
    alerting: {
      webhooks: [
        ...hooks('generic', e.ALERT_WEBHOOK_URLS, 'ALERT_WEBHOOK_URLS'),
        ...hooks('slack', e.ALERT_SLACK_WEBHOOK_URLS, 'ALERT_SLACK_WEBHOOK_URLS'),
      ],
      retries: e.ALERT_WEBHOOK_RETRIES,
      nightlyDeadlineMinutes: hh! * 60 + mm!,
      incrementalIntervals: e.ALERT_INCREMENTAL_INTERVALS,
      expectedWindows: windows,
      retryingAfterMs:
        Number(e.ALERT_RETRYING_AFTER.slice(0, -1)) *
        { s: 1000, m: 60_000, h: 3_600_000 }[e.ALERT_RETRYING_AFTER.slice(-1) as 's' | 'm' | 'h'],
    },
    errorReporting: {
      apiKey: e.ERROR_REPORTING_API_KEY,
      endpoint: e.ERROR_REPORTING_ENDPOINT,
      environment: e.ERROR_REPORTING_ENVIRONMENT,
    },
  };
}

function schoolApiSection(e: RawConfig): Config['schoolApi'] {
  const sample = !e.SCHOOL_API_URL && !e.SCHOOL_API_CLIENT_ID && !e.SCHOOL_API_CLIENT_SECRET;
  if (!sample && (!e.SCHOOL_API_CLIENT_ID || !e.SCHOOL_API_CLIENT_SECRET)) {
    throw new ConfigError(
      'the school API needs SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET (or SCHOOL_API_CLIENT_SECRET_FILE); ' +
        'unset SCHOOL_API_* to use the sample server',
    );
  }
  const baseUrl = (e.SCHOOL_API_URL ?? (sample ? undefined : 'https://api.intra.42.fr'))?.replace(/\/+$/, '');
  return {
    baseUrl,
    tokenUrl: e.SCHOOL_API_TOKEN_URL ?? (baseUrl ? `${baseUrl}/oauth/token` : undefined),
    clientId: e.SCHOOL_API_CLIENT_ID,
    clientSecret: e.SCHOOL_API_CLIENT_SECRET,
    pageSize: e.SCHOOL_API_PAGE_SIZE,
    maxRetries: e.SCHOOL_API_MAX_RETRIES,
    sleepBetweenCallsMs: Math.round(e.SLEEP_BETWEEN_CALLS * 1000),
    scope: {
      cursusId: e.SCHOOL_API_CURSUS_ID,
      userKind: e.SCHOOL_API_USER_KIND,
      includeAlumni: e.SCHOOL_API_INCLUDE_ALUMNI,
    },
    sample,
  };
}

export type GateMode = 'warn' | 'fail';

export interface KustoConfig {
  /** 'sample' when no cluster is configured: a local server speaking the Kusto protocol serves the built-in sample. */
  mode: 'live' | 'sample';
  /** gh-analytics: ace, canonical, hydro, snapshots databases. */
  analyticsClusterUrl?: string;
  /** cse-analytics: the FY26+ Pearson exam results. */
  examClusterUrl?: string;
  examDatabase: string;
  auth:
    | { kind: 'default' }
    | { kind: 'app-key'; tenantId: string; clientId: string; clientSecret: string }
    | { kind: 'managed-identity'; clientId?: string }
    | { kind: 'access-token'; accessToken: string };
  queryTimeoutMs: number;
  /** Overrides every time-windowed source's window size. */
  windowDays?: number;
  /** Hash partitions of the snapshot sources (emails, signups). */
  partitions: number;
  /** Days before the target date re-extracted on every run, for late-arriving rows. */
  lookbackDays: number;
  /** First day a source is read from when it has never been loaded (FY22 starts 2021-07-01). */
  historyStart: string;
}

export interface LearningRoiConfig {
  /** 1 → about 84,000 learners and 120,000 exams in sample mode. */
  sampleScale: number;
  liveCacheSeconds: number;
  profilePort: number;
  gates: {
    rowBand: number;
    rowMode: GateMode;
    identityMinRate: number;
    identityMode: GateMode;
    scoreCoverageMin: number;
    scoreMode: GateMode;
  };
}

function kustoSection(e: RawConfig): KustoConfig {
  const analytics = e.KUSTO_ANALYTICS_CLUSTER_URL?.replace(/\/+$/, '');
  const exam = e.KUSTO_EXAM_CLUSTER_URL?.replace(/\/+$/, '');
  if (!analytics !== !exam) {
    throw new ConfigError(
      'set both KUSTO_ANALYTICS_CLUSTER_URL and KUSTO_EXAM_CLUSTER_URL, or neither to use the built-in sample source',
    );
  }
  let auth: KustoConfig['auth'];
  switch (e.KUSTO_AUTH) {
    case 'app-key':
      if (!e.KUSTO_TENANT_ID || !e.KUSTO_CLIENT_ID || !e.KUSTO_CLIENT_SECRET) {
        throw new ConfigError(
          'KUSTO_AUTH=app-key needs KUSTO_TENANT_ID, ' +
            'KUSTO_CLIENT_ID and KUSTO_CLIENT_SECRET (or KUSTO_CLIENT_SECRET_FILE)',
        );
      }
      auth = {
        kind: 'app-key',
        tenantId: e.KUSTO_TENANT_ID,
        clientId: e.KUSTO_CLIENT_ID,
        clientSecret: e.KUSTO_CLIENT_SECRET,
      };
      break;
    case 'managed-identity':
      auth = { kind: 'managed-identity', clientId: e.KUSTO_CLIENT_ID };
      break;
    case 'access-token':
      if (!e.KUSTO_ACCESS_TOKEN)
        throw new ConfigError('KUSTO_AUTH=access-token needs KUSTO_ACCESS_TOKEN (or KUSTO_ACCESS_TOKEN_FILE)');
      auth = { kind: 'access-token', accessToken: e.KUSTO_ACCESS_TOKEN };
      break;
    default:
      auth = { kind: 'default' };
  }
  return {
    mode: analytics ? 'live' : 'sample',
    analyticsClusterUrl: analytics,
    examClusterUrl: exam,
    examDatabase: e.KUSTO_EXAM_DATABASE,
    auth,
    queryTimeoutMs: e.KUSTO_QUERY_TIMEOUT_SECONDS * 1000,
    windowDays: e.KUSTO_WINDOW_DAYS,
    partitions: e.KUSTO_PARTITIONS,
    lookbackDays: e.KUSTO_LOOKBACK_DAYS,
    historyStart: e.KUSTO_HISTORY_START,
  };
}

function learningRoiSection(e: RawConfig): LearningRoiConfig {
  return {
    sampleScale: e.LEARNING_ROI_SAMPLE_SCALE,
    liveCacheSeconds: e.LEARNING_ROI_LIVE_CACHE_SECONDS,
    profilePort: e.LEARNING_ROI_PROFILE_PORT,
    gates: {
      rowBand: e.LEARNING_ROI_ROW_BAND,
      rowMode: e.LEARNING_ROI_ROW_GATE,
      identityMinRate: e.LEARNING_ROI_IDENTITY_MIN_RATE,
      identityMode: e.LEARNING_ROI_IDENTITY_GATE,
      scoreCoverageMin: e.LEARNING_ROI_SCORE_COVERAGE_MIN,
      scoreMode: e.LEARNING_ROI_SCORE_GATE,
    },
  };
}

function urlPassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

// Postgres connection URLs are the one place a password in a URL is the norm (libpq, pg): they are
// accepted and their password is registered with the masking function instead.
const PASSWORD_URL_VARIABLES = new Set([
  'DATABASE_URL',
  'WAREHOUSE_DATABASE_URL',
  'OLTP_DATABASE_URL',
  'APP_DB_POSTGRES_URL',
]);
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Every URL-valued variable (any value, or comma-separated entry, that is a URL) carrying
 * credentials — user:password@ or a token parameter — as one message per variable naming it and
 * never the credential. Such a URL would be printed, logged and stored wherever it is mentioned,
 * and fetch() refuses to send one anyway (an alert webhook with credentials could never be delivered).
 */
export function credentialledUrlVariables(env: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || PASSWORD_URL_VARIABLES.has(name)) continue;
    for (const entry of value.split(',').map((v) => v.trim())) {
      if (!URL_LIKE.test(entry)) continue;
      const what = urlCredentials(entry);
      if (!what) continue;
      out.push(
        `${name}: must not carry credentials (${what}), which would reach logs, alerts, the ledger and ` +
          '`status` output, and which fetch refuses to send: remove them (secrets go in their own variables or _FILE)',
      );
      break;
    }
  }
  return out;
}

/** Names of every variable the config reads, for the README and `learnsync --help`. */
export const CONFIG_VARIABLES = Object.keys(schema.shape);
