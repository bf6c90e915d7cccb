// Bookkeeping shared by the API sources (GitHub, school REST API): what every run spent per
// endpoint, the validators of conditional requests, and the page-by-page progress that lets an
// extraction resume after a crash without fetching a committed page again.
export const sql = `
CREATE TABLE IF NOT EXISTS api_hits (
  run_id               UUID NOT NULL,          -- etl_job_runs.id of the attempt that spent the calls
  job_name             VARCHAR(100) NOT NULL,
  pipeline             VARCHAR(100),
  source               VARCHAR(20) NOT NULL,   -- github | school-api
  endpoint             TEXT NOT NULL,          -- route template, e.g. /v2/cursus/{id}/users
  calls                INTEGER NOT NULL DEFAULT 0, -- HTTP requests sent, retries and token requests included
  cache_hits           INTEGER NOT NULL DEFAULT 0, -- 304 Not Modified answers
  retries              INTEGER NOT NULL DEFAULT 0,
  throttled            INTEGER NOT NULL DEFAULT 0, -- 429 and rate-limit 403 answers
  errors               INTEGER NOT NULL DEFAULT 0, -- 5xx, network errors, unreadable bodies
  rate_limit_remaining INTEGER,
  rate_limit_limit     INTEGER,
  rate_limit_reset     TIMESTAMPTZ,
  first_call_at        TIMESTAMPTZ,
  last_call_at         TIMESTAMPTZ,
  PRIMARY KEY (run_id, endpoint)
);
CREATE INDEX IF NOT EXISTS api_hits_job ON api_hits (job_name, last_call_at DESC);

CREATE TABLE IF NOT EXISTS api_http_cache (
  cache_key          TEXT PRIMARY KEY,
  etag               TEXT,
  last_modified      TEXT,
  body               JSONB,                    -- kept only where a 304 must be answered from it
  fetched_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  validated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  not_modified_count INTEGER NOT NULL DEFAULT 0
);

-- One row per (job, resource). state: running = a run is paging through it; complete = this run
-- finished it (its cursor is committed); idle = the last run finished, counters describe it.
CREATE TABLE IF NOT EXISTS api_extract_progress (
  job_name        VARCHAR(100) NOT NULL,
  resource        TEXT NOT NULL,
  run_key         TEXT NOT NULL,             -- target date of a nightly run, 'incremental' otherwise
  state           VARCHAR(10) NOT NULL CHECK (state IN ('running', 'complete', 'idle')),
  mode            VARCHAR(10) NOT NULL CHECK (mode IN ('full', 'window')),
  window_start    TIMESTAMPTZ,
  window_end      TIMESTAMPTZ,
  run_started_at  TIMESTAMPTZ NOT NULL,
  next_page       INTEGER NOT NULL DEFAULT 1,
  position        TEXT,
  pages_committed INTEGER NOT NULL DEFAULT 0,
  rows_committed  BIGINT NOT NULL DEFAULT 0,
  rows_rejected   BIGINT NOT NULL DEFAULT 0,
  max_updated_at  TIMESTAMPTZ,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (job_name, resource)
);
`;
