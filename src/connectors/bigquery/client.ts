// BigQuery through the official @google-cloud/bigquery client, with the two rules that keep errors
// from vanishing: every statement runs as a job (createQueryJob + getQueryResults, then the job's
// status is checked) and every load is a load job whose errorResult is checked. `bq.query()` is
// never used: against the emulator it answers a failed query with empty results.
//
// The emulator adapter (documented in the README): with `apiEndpoint` set and no credentials the
// client skips google-auth, and its multipart upload request then has no `headers` object, which
// teeny-request writes into and crashes (client 8.x, `table.load` and `createWriteStream`). We give
// every request an empty headers object before the client fills it. Against real BigQuery
// (no apiEndpoint) the adapter is not installed.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BigQuery, type Job, type Table } from '@google-cloud/bigquery';
import { AuthError, ConfigError, ValidationError } from '../../errors.js';
import { livenessAfterSilence, withLiveness, type HttpLivenessOptions } from '../http-liveness.js';

export interface BigQueryTarget {
  bq: BigQuery;
  projectId: string;
  datasetId: string;
  location?: string;
  /** The silent-network watchdog of every call (http-liveness.ts); tests probe faster. */
  liveness?: HttpLivenessOptions;
}

/** Every call to BigQuery is watched: a silent endpoint fails it in seconds as an outage, never a hang. */
function watched<T>(
  t: Pick<BigQueryTarget, 'bq' | 'liveness'>,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const endpoint = (t.bq as unknown as { apiEndpoint?: string }).apiEndpoint ?? 'https://bigquery.googleapis.com';
  // Unset: the tolerant 60 s, since the emulator answers nothing while it runs a statement.
  return withLiveness(endpoint, what, call, t.liveness ?? livenessAfterSilence(60)).catch((err: unknown) => {
    // Errors the call classified itself carry `what` already.
    if (err instanceof Error && err.message.startsWith(`${what}: `)) throw err;
    throw classifyBigQueryError(err, what);
  });
}

export interface BigQueryClientOptions {
  projectId: string;
  /** http://host:port of an emulator; unset → Google's endpoint with application default credentials. */
  apiEndpoint?: string;
  /** Service-account JSON file; unset → GOOGLE_APPLICATION_CREDENTIALS / ADC. */
  keyFilename?: string;
  location?: string;
}

export function createBigQueryClient(opts: BigQueryClientOptions): BigQuery {
  // An emulator (apiEndpoint) is no Google Compute Engine: without this the auth library probes the
  // GCE metadata server and prints MetadataLookupWarning. A value the user set is left alone.
  if (opts.apiEndpoint) process.env.METADATA_SERVER_DETECTION ??= 'none';
  const bq = new BigQuery({
    projectId: opts.projectId,
    ...(opts.apiEndpoint && { apiEndpoint: opts.apiEndpoint }),
    ...(opts.keyFilename && { keyFilename: opts.keyFilename }),
    ...(opts.location && { location: opts.location }),
  });
  if (opts.apiEndpoint) installEmulatorHeadersAdapter(bq);
  return bq;
}

type AuthenticatedRequest = (reqOpts: Record<string, unknown>, options?: unknown) => unknown;

/** See the file comment: uploads without credentials need a headers object to write into. */
export function installEmulatorHeadersAdapter(bq: BigQuery): void {
  const target = bq as unknown as { makeAuthenticatedRequest: AuthenticatedRequest };
  const original = target.makeAuthenticatedRequest;
  target.makeAuthenticatedRequest = (reqOpts, options) =>
    original({ ...reqOpts, headers: { ...(reqOpts.headers as object | undefined) } }, options);
}

/** Backquoted `project.dataset.table`; names are checked so that nothing can break out of the quotes. */
export function qualifiedName(t: Pick<BigQueryTarget, 'projectId' | 'datasetId'>, table: string): string {
  for (const part of [t.datasetId, table]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/.test(part))
      throw new ValidationError(`"${part}" is not a valid BigQuery dataset or table name`);
  }
  if (!/^[a-z][a-z0-9-]{2,62}$/.test(t.projectId))
    throw new ConfigError(`"${t.projectId}" is not a valid BigQuery project id`);
  return `\`${t.projectId}.${t.datasetId}.${table}\``;
}

export const quoteIdent = (name: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,299}$/.test(name))
    throw new ValidationError(`"${name}" is not a valid BigQuery column name`);
  return `\`${name}\``;
};

/** Auth and bad requests never get better by retrying; everything else (5xx, network) may. */
export function classifyBigQueryError(err: unknown, what: string): Error {
  if (err instanceof ConfigError || err instanceof AuthError || err instanceof ValidationError) return err;
  const e = err as { code?: number | string; message?: string; errors?: Array<{ reason?: string; message?: string }> };
  const message = `${what}: ${e.message ?? String(err)}`;
  const reason = e.errors?.[0]?.reason;
  if (e.code === 401 || e.code === 403 || reason === 'accessDenied')
    return new AuthError(`${message} (check GOOGLE_APPLICATION_CREDENTIALS and the service account's BigQuery roles)`);
  if (e.code === 404 || reason === 'notFound')
    return new ConfigError(`${message} (check BIGQUERY_PROJECT, BIGQUERY_DATASET and BIGQUERY_LOCATION)`);
  if (e.code === 400 || reason === 'invalid' || reason === 'invalidQuery') return new ValidationError(message);
  return err instanceof Error ? Object.assign(err, { message }) : new Error(message);
}

function jobError(
  job: Job,
  status: { errorResult?: { message?: string; reason?: string } } | undefined,
  what: string,
): Error | undefined {
  const r = status?.errorResult;
  if (!r) return undefined;
  return classifyBigQueryError(
    Object.assign(new Error(`${r.message ?? r.reason} (job ${job.id})`), { errors: [r] }),
    what,
  );
}

export interface QueryOutcome<T> {
  rows: T[];
  /** Rows a DML statement (INSERT, UPDATE, DELETE, MERGE) changed. */
  affectedRows: number;
  schema: Array<{ name: string; type: string }>;
}

/** Runs one statement as a job, waits for it and throws whatever error the job reports. */
export async function runQuery<T = Record<string, unknown>>(
  t: Pick<BigQueryTarget, 'bq' | 'location' | 'liveness'>,
  sql: string,
  params?: Record<string, unknown>,
  what = 'BigQuery query',
): Promise<QueryOutcome<T>> {
  return watched(t, what, () => runQueryJob<T>(t, sql, params, what));
}

async function runQueryJob<T>(
  t: Pick<BigQueryTarget, 'bq' | 'location'>,
  sql: string,
  params: Record<string, unknown> | undefined,
  what: string,
): Promise<QueryOutcome<T>> {
  let job: Job;
  try {
    [job] = await t.bq.createQueryJob({
      query: sql,
      useLegacySql: false,
      ...(params && { params }),
      ...(t.location && { location: t.location }),
    });
  } catch (err) {
    throw classifyBigQueryError(err, what);
  }
  let rows: T[];
  let response: { schema?: { fields?: Array<{ name?: string; type?: string }> } } | undefined;
  try {
    const res = await job.getQueryResults({ autoPaginate: true });
    rows = res[0] as T[];
    response = res[2] as typeof response;
  } catch (err) {
    throw classifyBigQueryError(err, what);
  }
  const [meta] = await job.getMetadata().catch((err: unknown) => {
    throw classifyBigQueryError(err, what);
  });
  const failed = jobError(job, meta.status, what);
  if (failed) throw failed;
  return {
    rows,
    affectedRows: Number(meta.statistics?.query?.numDmlAffectedRows ?? 0),
    schema: (response?.schema?.fields ?? []).map((f) => ({
      name: f.name ?? '',
      type: normalizeBigQueryType(f.type ?? ''),
    })),
  };
}

/** The REST API answers legacy names (INTEGER, FLOAT, BOOLEAN); we speak standard SQL names. */
export function normalizeBigQueryType(type: string): string {
  const t = type.toUpperCase();
  return ({ INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', RECORD: 'STRUCT' } as Record<string, string>)[t] ?? t;
}

export interface LoadOptions {
  schema: Array<{ name: string; type: string; mode?: 'NULLABLE' | 'REQUIRED' }>;
  writeDisposition: 'WRITE_TRUNCATE' | 'WRITE_APPEND';
}

/**
 * Streams newline-delimited JSON into one load job (not insertAll row by row) and waits for it.
 * Resolves with the rows BigQuery says it loaded; rejects with the job's own error.
 */
export async function loadNdjson(
  t: BigQueryTarget,
  table: string,
  lines: AsyncIterable<string> | Readable,
  opts: LoadOptions,
): Promise<{ outputRows: number; jobId: string }> {
  const what = `load job into ${t.datasetId}.${table}`;
  return watched(t, what, (signal) => runLoadJob(t, table, lines, opts, what, signal));
}

async function runLoadJob(
  t: BigQueryTarget,
  table: string,
  lines: AsyncIterable<string> | Readable,
  opts: LoadOptions,
  what: string,
  signal: AbortSignal,
): Promise<{ outputRows: number; jobId: string }> {
  const dest: Table = t.bq.dataset(t.datasetId, { ...(t.location && { location: t.location }) }).table(table);
  const ws = dest.createWriteStream({
    sourceFormat: 'NEWLINE_DELIMITED_JSON',
    writeDisposition: opts.writeDisposition,
    createDisposition: 'CREATE_IF_NEEDED',
    schema: { fields: opts.schema },
  });
  const jobPromise = new Promise<Job>((resolve, reject) => {
    ws.once('job', resolve);
    ws.once('error', reject);
  });
  jobPromise.catch(() => {});
  const source = lines instanceof Readable ? lines : Readable.from(lines);
  let uploadError: unknown;
  try {
    // A silent endpoint stops the upload too (its request has no timeout of its own).
    await pipeline(source, ws, { signal });
  } catch (err) {
    uploadError = err;
  }
  let job: Job | undefined;
  try {
    job = await jobPromise;
  } catch (err) {
    throw classifyBigQueryError(uploadError ?? err, what);
  }
  if (!job) throw classifyBigQueryError(uploadError ?? new Error('no job was created'), what);
  let meta = job.metadata as {
    status?: { state?: string; errorResult?: { message?: string } };
    statistics?: { load?: { outputRows?: string } };
  };
  // Real BigQuery answers the upload before the job is done; the emulator when it is done.
  while (meta.status?.state !== 'DONE') {
    await new Promise((r) => setTimeout(r, 250));
    [meta] = await job.getMetadata().catch((err: unknown) => {
      throw classifyBigQueryError(err, what);
    });
  }
  const failed = jobError(job, meta.status, what);
  if (failed) throw failed;
  if (uploadError) throw classifyBigQueryError(uploadError, what);
  return { outputRows: Number(meta.statistics?.load?.outputRows ?? 0), jobId: job.id ?? '' };
}

export async function ensureDataset(t: BigQueryTarget): Promise<void> {
  const ds = t.bq.dataset(t.datasetId, { ...(t.location && { location: t.location }) });
  await watched(t, `dataset ${t.datasetId}`, async () => {
    try {
      const [exists] = await ds.exists();
      if (!exists) await ds.create({ ...(t.location && { location: t.location }) });
    } catch (err) {
      if ((err as { code?: number }).code === 409) return; // created by a concurrent attempt
      throw err;
    }
  });
}

export async function tableExists(t: BigQueryTarget, table: string): Promise<boolean> {
  return watched(t, `table ${t.datasetId}.${table}`, async () => {
    const [exists] = await t.bq.dataset(t.datasetId).table(table).exists();
    return exists;
  });
}

export async function listTables(t: BigQueryTarget): Promise<string[]> {
  return watched(t, `tables of ${t.datasetId}`, async () => {
    const [tables] = await t.bq.dataset(t.datasetId).getTables();
    return tables.map((x) => x.id ?? '').filter(Boolean);
  });
}

export async function dropTable(t: BigQueryTarget, table: string): Promise<void> {
  await runQuery(t, `DROP TABLE IF EXISTS ${qualifiedName(t, table)}`, undefined, `drop ${table}`);
}

/** The columns a table really has: a query's result schema (the emulator's metadata misses ALTERed columns). */
export async function readTableSchema(
  t: BigQueryTarget,
  table: string,
): Promise<Array<{ name: string; type: string }>> {
  const r = await runQuery(t, `SELECT * FROM ${qualifiedName(t, table)} LIMIT 0`, undefined, `schema of ${table}`);
  return r.schema;
}
