// Environment → one typed, validated config. Parsed once; every other module takes what it needs from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const intFromEnv = (def: number) => z.coerce.number().int().positive().default(def);
const boolFromEnv = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const secondsFromEnv = (def: number) => z.coerce.number().min(0).default(def);
const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL').optional();
const pgUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
  .optional();

const schema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('learnsync'),
  TEMPORAL_DEV_PORT: intFromEnv(7233),
  TEMPORAL_UI_PORT: intFromEnv(8233),
  TEMPORAL_UI_URL: z.string().url().optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: intFromEnv(8),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: intFromEnv(8),
  WORKER_SHUTDOWN_GRACE_SECONDS: intFromEnv(30),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  DATABASE_URL: pgUrl,
  WAREHOUSE_DATABASE_URL: pgUrl,
  OLTP_DATABASE_URL: pgUrl,
  EMBEDDED_PG_PORT: intFromEnv(54329),
  LEARNSYNC_DATA_DIR: z.string().default(path.join(projectRoot, '.data')),
  LEARNSYNC_OUTPUT_DIR: z.string().default(path.join(projectRoot, 'output')),
  LEARNSYNC_ROWS_DROP_ALERT: z.coerce.number().min(0).max(1).default(0.5),
  SAMPLE_DAYS: intFromEnv(7),
  SAMPLE_EXAMS_PER_DAY: intFromEnv(2000),
  // API sources (issue 5). No credentials → the local sample servers stand in for the APIs.
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_ORG: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub organisation login').optional(),
  GITHUB_API_URL: httpUrl,
  GITHUB_SKILLS_ORG: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a GitHub organisation login').default('skills'),
  GITHUB_TRACKED_USERS: z.string().optional(),
  GITHUB_MAX_RETRIES: intFromEnv(4),
  SCHOOL_API_URL: httpUrl,
  SCHOOL_API_TOKEN_URL: httpUrl,
  SCHOOL_API_CLIENT_ID: z.string().optional(),
  SCHOOL_API_CLIENT_SECRET: z.string().optional(),
  SCHOOL_API_PAGE_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  SCHOOL_API_MAX_RETRIES: intFromEnv(6),
  SCHOOL_API_CURSUS_ID: intFromEnv(21),
  SCHOOL_API_USER_KIND: z.string().min(1).default('student'),
  SCHOOL_API_INCLUDE_ALUMNI: boolFromEnv(false),
  SLEEP_BETWEEN_CALLS: secondsFromEnv(0.6),
  API_BACKOFF_SCALE: z.coerce.number().min(0).max(10).default(1),
  SAMPLE_API_CHANGES_PER_MINUTE: z.coerce.number().int().min(0).default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LEARNSYNC_PRETTY_LOGS: boolFromEnv(false),
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
  };
  worker: {
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    shutdownGraceSeconds: number;
    bundlePath?: string;
  };
  postgres: {
    /** undefined → embedded Postgres serves both databases */
    warehouseUrl?: string;
    oltpUrl?: string;
    embeddedPort: number;
  };
  dataDir: string;
  outputDir: string;
  alerts: { rowsDropShare: number };
  sample: { days: number; examsPerDay: number };
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
  sampleApi: { changesPerMinute: number };
  log: { level: RawConfig['LOG_LEVEL']; pretty: boolean };
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
  const parsed = schema.safeParse(withFileSecrets(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration — ${problems}`);
  }
  const e = parsed.data;
  const warehouseUrl = e.WAREHOUSE_DATABASE_URL ?? e.DATABASE_URL;
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
    },
    worker: {
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
      bundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    postgres: {
      warehouseUrl,
      // One server is enough for a small install: the OLTP source defaults to the warehouse's server.
      oltpUrl: e.OLTP_DATABASE_URL ?? warehouseUrl,
      embeddedPort: e.EMBEDDED_PG_PORT,
    },
    dataDir: path.resolve(e.LEARNSYNC_DATA_DIR),
    outputDir: path.resolve(e.LEARNSYNC_OUTPUT_DIR),
    alerts: { rowsDropShare: e.LEARNSYNC_ROWS_DROP_ALERT },
    sample: { days: e.SAMPLE_DAYS, examsPerDay: e.SAMPLE_EXAMS_PER_DAY },
    github: {
      token: e.GITHUB_TOKEN,
      org: e.GITHUB_ORG,
      apiUrl: e.GITHUB_API_URL?.replace(/\/+$/, ''),
      skillsOrg: e.GITHUB_SKILLS_ORG,
      trackedUsers: (e.GITHUB_TRACKED_USERS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
      maxRetries: e.GITHUB_MAX_RETRIES,
      sample: !e.GITHUB_TOKEN && !e.GITHUB_API_URL,
    },
    schoolApi: schoolApiSection(e),
    apiBackoffScale: e.API_BACKOFF_SCALE,
    sampleApi: { changesPerMinute: e.SAMPLE_API_CHANGES_PER_MINUTE },
    log: { level: e.LOG_LEVEL, pretty: e.LEARNSYNC_PRETTY_LOGS },
  };
}

function schoolApiSection(e: RawConfig): Config['schoolApi'] {
  const sample = !e.SCHOOL_API_URL && !e.SCHOOL_API_CLIENT_ID && !e.SCHOOL_API_CLIENT_SECRET;
  if (!sample && (!e.SCHOOL_API_CLIENT_ID || !e.SCHOOL_API_CLIENT_SECRET)) {
    throw new ConfigError(
      'the school API needs SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET (or SCHOOL_API_CLIENT_SECRET_FILE); unset SCHOOL_API_* to use the sample server',
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
    scope: { cursusId: e.SCHOOL_API_CURSUS_ID, userKind: e.SCHOOL_API_USER_KIND, includeAlumni: e.SCHOOL_API_INCLUDE_ALUMNI },
    sample,
  };
}

/** Names of every variable the config reads, for the README and `learnsync --help`. */
export const CONFIG_VARIABLES = Object.keys(schema.shape);
