// What API calls a run spent, per endpoint: accumulated in memory as calls happen and written to
// api_hits in the same transactions as the pages they fetched (and best effort after a failure),
// so the record of a run survives its crash and `learnsync status` can show it.
import type pg from 'pg';
import type { ApiCallEvent } from '../../connectors/school-api/client.js';

export interface EndpointHits {
  calls: number;
  cacheHits: number;
  retries: number;
  throttled: number;
  errors: number;
  rateLimitRemaining?: number;
  rateLimitLimit?: number;
  rateLimitReset?: Date;
  firstCallAt?: Date;
  lastCallAt?: Date;
}

const empty = (): EndpointHits => ({ calls: 0, cacheHits: 0, retries: 0, throttled: 0, errors: 0 });

export class ApiHitRecorder {
  private readonly totals = new Map<string, EndpointHits>();
  private pending = new Map<string, EndpointHits>();

  constructor(readonly source: 'github' | 'school-api') {}

  readonly record = (e: ApiCallEvent): void => {
    for (const map of [this.totals, this.pending]) {
      const h = map.get(e.endpoint) ?? empty();
      h.calls++;
      if (e.notModified) h.cacheHits++;
      if (e.retry) h.retries++;
      if (e.throttled) h.throttled++;
      if (e.error) h.errors++;
      if (e.rateLimit) {
        h.rateLimitRemaining = e.rateLimit.remaining;
        h.rateLimitLimit = e.rateLimit.limit ?? h.rateLimitLimit;
        h.rateLimitReset = e.rateLimit.resetAt ?? h.rateLimitReset;
      }
      h.firstCallAt ??= e.at;
      h.lastCallAt = e.at;
      map.set(e.endpoint, h);
    }
  };

  byEndpoint(): ReadonlyMap<string, EndpointHits> {
    return this.totals;
  }

  total(): EndpointHits {
    const t = empty();
    for (const h of this.totals.values()) {
      t.calls += h.calls;
      t.cacheHits += h.cacheHits;
      t.retries += h.retries;
      t.throttled += h.throttled;
      t.errors += h.errors;
      if (h.rateLimitRemaining !== undefined && (!t.lastCallAt || (h.lastCallAt && h.lastCallAt >= t.lastCallAt))) {
        t.rateLimitRemaining = h.rateLimitRemaining;
        t.rateLimitLimit = h.rateLimitLimit;
        t.lastCallAt = h.lastCallAt;
      }
    }
    return t;
  }

  /** Takes what has not been written yet; give it back with restore() if the write is rolled back. */
  takePending(): Map<string, EndpointHits> {
    const p = this.pending;
    this.pending = new Map();
    return p;
  }

  restore(taken: Map<string, EndpointHits>): void {
    for (const [endpoint, h] of taken) {
      const cur = this.pending.get(endpoint);
      if (!cur) {
        this.pending.set(endpoint, h);
        continue;
      }
      cur.calls += h.calls;
      cur.cacheHits += h.cacheHits;
      cur.retries += h.retries;
      cur.throttled += h.throttled;
      cur.errors += h.errors;
      cur.firstCallAt = h.firstCallAt ?? cur.firstCallAt;
    }
  }
}

export interface HitRun {
  runId: string;
  jobName: string;
  pipeline?: string;
  source: string;
}

export async function writeHits(
  db: pg.PoolClient | pg.Pool,
  run: HitRun,
  hits: Map<string, EndpointHits>,
): Promise<void> {
  for (const [endpoint, h] of hits) {
    await db.query(
      `INSERT INTO api_hits (run_id, job_name, pipeline, source, endpoint, calls, cache_hits, retries, throttled,
                             errors,
                             rate_limit_remaining, rate_limit_limit, rate_limit_reset, first_call_at, last_call_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (run_id, endpoint) DO UPDATE SET
         calls = api_hits.calls + EXCLUDED.calls, cache_hits = api_hits.cache_hits + EXCLUDED.cache_hits,
         retries = api_hits.retries + EXCLUDED.retries, throttled = api_hits.throttled + EXCLUDED.throttled,
         errors = api_hits.errors + EXCLUDED.errors,
         rate_limit_remaining = COALESCE(EXCLUDED.rate_limit_remaining, api_hits.rate_limit_remaining),
         rate_limit_limit = COALESCE(EXCLUDED.rate_limit_limit, api_hits.rate_limit_limit),
         rate_limit_reset = COALESCE(EXCLUDED.rate_limit_reset, api_hits.rate_limit_reset),
         first_call_at = LEAST(api_hits.first_call_at, EXCLUDED.first_call_at),
         last_call_at = GREATEST(api_hits.last_call_at, EXCLUDED.last_call_at)`,
      [
        run.runId,
        run.jobName,
        run.pipeline ?? null,
        run.source,
        endpoint,
        h.calls,
        h.cacheHits,
        h.retries,
        h.throttled,
        h.errors,
        h.rateLimitRemaining ?? null,
        h.rateLimitLimit ?? null,
        h.rateLimitReset ?? null,
        h.firstCallAt ?? null,
        h.lastCallAt ?? null,
      ],
    );
  }
}

export interface ApiHitsRow {
  job_name: string;
  pipeline: string | null;
  source: string;
  endpoint: string;
  calls: number;
  cache_hits: number;
  retries: number;
  throttled: number;
  errors: number;
  rate_limit_remaining: number | null;
  rate_limit_limit: number | null;
  status: string | null;
  last_call_at: Date | null;
}

/** The endpoints of each job's latest run that spent calls: what `learnsync status` shows. */
export async function latestApiHits(pool: pg.Pool): Promise<ApiHitsRow[]> {
  const { rows } = await pool.query<ApiHitsRow>(
    `WITH latest AS (
       SELECT DISTINCT ON (job_name) job_name, run_id FROM api_hits ORDER BY job_name, last_call_at DESC NULLS LAST)
     SELECT h.job_name, h.pipeline, h.source, h.endpoint, h.calls, h.cache_hits, h.retries, h.throttled, h.errors,
            h.rate_limit_remaining, h.rate_limit_limit, r.status, h.last_call_at
       FROM api_hits h JOIN latest l ON l.run_id = h.run_id
       LEFT JOIN etl_job_runs r ON r.id = h.run_id
      ORDER BY h.source, h.job_name, h.endpoint`,
  );
  return rows;
}
