// Extract stage of the learning ROI pipeline: one Kusto source into its staging table, window by
// window. Each window commits on its own — its rows (COPY), its rejects, its row in
// etl_kusto_windows and the source's watermark in one transaction — so a retried activity skips
// the windows already committed and resumes at the first one that is not. The plan (range and
// window size) is stored on the first attempt, so a retry cuts exactly the same windows even though
// "now" has moved. A window Kusto truncates is split in two and each half loaded instead.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from '@temporalio/activity';
import { from as copyFrom } from 'pg-copy-streams';
import { KustoLimitsError } from '../../connectors/kusto/errors.js';
import type { KustoCluster, KustoTable } from '../../connectors/kusto/client.js';
import {
  planWindows,
  splitWindow,
  timeRangeFor,
  type ExtractWindow,
  type WindowPlan,
} from '../../connectors/kusto/windows.js';
import { withTransaction, type PoolClient } from '../../connectors/postgres.js';
import { ValidationError } from '../../errors.js';
import type { NodeInput, NodeResult } from '../types.js';
import type { ActivityDeps } from '../../runtime/deps.js';
import { runLedgeredJob } from '../../runtime/ledger/job-runner.js';
import { recordSourceSync, writeSyncStatus } from './status.js';
import { requireDate } from '../../runtime/require-date.js';
import { activityContext } from '../../runtime/activity-context.js';
import { startHeartbeat, type Heartbeat } from '../../runtime/heartbeat.js';
import type { KustoClusters } from './clusters.js';
import { sourceSpec, type KustoSourceSpec, type SourceColumn } from './sources.js';

export interface ExtractHeartbeat {
  runKey: string;
  source: string;
  windowsDone: number;
  windowsPlanned: number;
  lastWindow?: string;
  rows: number;
}

const WATERMARK = (source: string) => `kusto:${source}:loaded_through`;
const PRUNE_AFTER_DAYS = 30;

/** Stable across retries of one activity, different for every new run: the key of the window log. */
function runKeyOf(ctx: Context | undefined): string {
  const hb = ctx?.info.heartbeatDetails as Partial<ExtractHeartbeat> | undefined;
  if (hb?.runKey) return hb.runKey;
  const wf = ctx?.info.workflowExecution;
  return wf ? `${wf.workflowId}/${wf.runId}/${ctx!.info.activityId}` : `local/${randomUUID()}`;
}

function typeMismatch(v: unknown, c: SourceColumn): { reject: string } {
  return { reject: `column ${c.name}: expected ${c.type}, got ${JSON.stringify(v).slice(0, 60)}` };
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
// Characters Postgres text cannot hold (NUL) or UTF-8 cannot encode (a surrogate without its pair,
// which Node would silently write as U+FFFD): a value holding one is a reject, never altered.
const SUSPECT_CHAR = /[\0\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const INTEGER_TEXT = /^-?\d{1,19}$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Why a string cannot be stored as text as it is, or undefined when it can. */
export function unstorableText(s: string): string | undefined {
  if (!SUSPECT_CHAR.test(s)) return undefined;
  const nul = s.indexOf('\0');
  if (nul >= 0) return `a NUL character (U+0000) at position ${nul}, which Postgres text cannot store`;
  const lone = LONE_SURROGATE.exec(s);
  if (lone)
    return (
      `a lone UTF-16 surrogate (U+${lone[0].charCodeAt(0).toString(16).toUpperCase()}) at position ${lone.index}, ` +
      'which is not a character and has no UTF-8 form'
    );
  return undefined;
}

/** An integer's digits when they fit a Postgres BIGINT; the digits come from the response text, never a float. */
function int64Text(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : undefined;
  if (typeof v !== 'string' || !INTEGER_TEXT.test(v)) return undefined;
  if (v.length < 19 || (v.length === 19 && v[0] === '-')) return v;
  const n = BigInt(v);
  return n <= INT64_MAX && n >= INT64_MIN ? v : undefined;
}

/** A value as COPY text, or a reason the row cannot be loaded. (Hot path: no closures, no allocation when clean.) */
export function copyText(v: unknown, c: SourceColumn): string | { reject: string } {
  if (v === null || v === undefined) return c.required ? { reject: `missing ${c.name}` } : '\\N';
  switch (c.type) {
    case 'string': {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      const unstorable = unstorableText(s);
      if (unstorable) return { reject: `column ${c.name}: the string holds ${unstorable}` };
      return NEEDS_ESCAPE.test(s)
        ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
        : s;
    }
    case 'long':
    case 'int': {
      const digits = int64Text(v);
      if (digits !== undefined) return digits;
      return typeof v === 'string' && /^-?\d+$/.test(v)
        ? { reject: `column ${c.name}: ${v} is outside the 64-bit integer range` }
        : typeMismatch(v, c);
    }
    case 'real':
      // Kusto writes NaN and ±Infinity as bare tokens (frames.ts reads them as these strings);
      // Postgres stores all three.
      if (typeof v === 'number')
        return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      // A big integer in a real column arrives as its digits (frames.ts): Postgres reads them as a float.
      return typeof v === 'string' && (FLOAT_SPECIALS.has(v) || /^-?\d+$/.test(v)) ? v : typeMismatch(v, c);
    case 'bool':
      return v === true ? 't' : v === false ? 'f' : typeMismatch(v, c);
    case 'datetime': {
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return typeMismatch(v, c);
      // Kusto's range starts at year 0000, Postgres's has no year 0 and JavaScript's reaches ±275760:
      // a value Postgres cannot store rejects its row here instead of failing the window's COPY.
      const m = ISO_DATETIME.exec(v);
      if (!m || m[1] === '0000' || !validDay(m))
        return {
          reject:
            `column ${c.name}: datetime ${JSON.stringify(v).slice(0, 60)} is outside the range the warehouse stores ` +
            '(0001-01-01 to 9999-12-31, ISO 8601)',
        };
      return v;
    }
  }
}

const FLOAT_SPECIALS = new Set(['NaN', 'Infinity', '-Infinity']);
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Date.parse lets 2024-02-30 through; Postgres does not. */
function validDay(m: RegExpExecArray): boolean {
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return false;
  return month !== 2 || day < 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
}

interface WindowLoad {
  read: number;
  loaded: number;
  rejected: number;
}

export interface KustoExtractOptions {
  /** Clusters to query instead of the configured ones (tests point these at their own servers). */
  clusters?: () => Promise<KustoClusters>;
  /** Clock for planning ("now"), for tests. */
  now?: () => number;
}

export function createKustoExtractActivities(deps: ActivityDeps, opts: KustoExtractOptions = {}) {
  const { warehouse, config, logger, outputDir } = deps;
  const clusters = opts.clusters ?? (() => deps.sources.kusto());
  const now = opts.now ?? Date.now;

  return {
    /** Node activity: params.source names one of KUSTO_SOURCES. */
    async extractKustoSource(input: NodeInput): Promise<NodeResult> {
      const date = requireDate(input);
      const spec = sourceSpec(input.params.source);
      if (!spec)
        throw new ValidationError(
          `${input.nodeId}: params.source must name a Kusto source, got ${JSON.stringify(input.params.source)}`,
        );
      const ctx = activityContext();
      const started = Date.now();
      const hb = startHeartbeat();
      try {
        const result = await runLedgeredJob(
          warehouse,
          { jobName: input.nodeId, pipeline: input.pipeline, targetDate: date, force: input.force },
          (tx) => extract(tx, input.nodeId, date, spec, ctx, hb),
        );
        if (!result.skipped) {
          await recordSourceSync(warehouse, {
            source: spec.name,
            status: 'success',
            targetDate: date,
            rows: result.inserted,
            rejected: result.rejected,
            windows: Number(result.detail?.windows ?? 0),
            durationMs: Date.now() - started,
          });
          await writeSyncStatus(warehouse, outputDir);
        }
        return result;
      } catch (err) {
        await recordSourceSync(warehouse, {
          source: spec.name,
          status: 'failed',
          targetDate: date,
          durationMs: Date.now() - started,
          error: (err as Error).message.slice(0, 2000),
        })
          .then(() => writeSyncStatus(warehouse, outputDir))
          .catch((e: Error) =>
            logger.warn({ err: e.message }, 'could not record the failed Kusto source in sync_status'),
          );
        throw err;
      } finally {
        hb.stop();
      }
    },
  };

  async function extract(
    tx: PoolClient,
    job: string,
    date: string,
    spec: KustoSourceSpec,
    ctx: Context | undefined,
    hb: Heartbeat,
  ) {
    const runKey = runKeyOf(ctx);
    const beat = (d: Omit<ExtractHeartbeat, 'runKey' | 'source'>) =>
      hb.report({ runKey, source: spec.name, ...d } satisfies ExtractHeartbeat);
    await waitForSourceLock(tx, spec.name, () => beat({ windowsDone: 0, windowsPlanned: 0, rows: 0 }));
    await recordSourceSync(warehouse, { source: spec.name, status: 'running', targetDate: date });

    const plan = await loadOrCreatePlan(runKey, job, date, spec);
    const windows = plan ? planWindows(plan) : [];
    const committed = await committedWindows(runKey, spec.name);
    const resumedAt = windows.findIndex((w) => !committed.has(w.key));
    if (committed.size)
      logger.info(
        { source: spec.name, runKey, committed: committed.size, planned: windows.length },
        'resuming Kusto extract after its committed windows',
      );
    const cluster = (await clusters())[spec.cluster];

    let done = 0;
    let rows = 0;
    for (const w of windows) {
      ctx?.cancellationSignal.throwIfAborted();
      // Marks the stage for bench:chaos's kills inside a window (LOG_LEVEL=debug).
      if (!committed.has(w.key)) logger.debug({ source: spec.name, window: w.key }, 'extracting a Kusto window');
      rows += (
        await loadWindow(cluster, spec, job, date, runKey, w, committed, () =>
          beat({ windowsDone: done, windowsPlanned: windows.length, lastWindow: w.key, rows }),
        )
      ).loaded;
      done++;
      beat({ windowsDone: done, windowsPlanned: windows.length, lastWindow: w.key, rows });
    }

    // Totals over every window of this run, including those committed by earlier attempts.
    const totals = await tx.query<{ windows: number; read: string; loaded: string; rejected: string }>(
      `SELECT count(*) FILTER (WHERE outcome = 'loaded')::int AS windows, coalesce(sum(rows_read), 0) AS read,
              coalesce(sum(rows_loaded), 0) AS loaded, coalesce(sum(rows_rejected), 0) AS rejected
         FROM etl_kusto_windows WHERE run_key = $1 AND source = $2`,
      [runKey, spec.name],
    );
    const t = totals.rows[0]!;
    let deleted = 0;
    if (spec.windows.kind === 'hash') {
      // The new snapshot is complete: older snapshots go, in the same transaction as the ledger row.
      deleted = (await tx.query(`DELETE FROM ${spec.stagingTable} WHERE run_key <> $1`, [runKey])).rowCount ?? 0;
    }
    await tx.query('UPDATE etl_kusto_runs SET finished_at = now() WHERE run_key = $1 AND source = $2', [
      runKey,
      spec.name,
    ]);
    await tx.query(
      `DELETE FROM etl_kusto_windows WHERE source = $1 AND committed_at < now() - make_interval(days => $2)`,
      [spec.name, PRUNE_AFTER_DAYS],
    );
    await tx.query(`DELETE FROM etl_kusto_runs WHERE source = $1 AND started_at < now() - make_interval(days => $2)`, [
      spec.name,
      PRUNE_AFTER_DAYS,
    ]);
    await tx.query(`ANALYZE ${spec.stagingTable}`);
    const read = Number(t.read);
    const loaded = Number(t.loaded);
    const rejected = Number(t.rejected);
    if (read !== loaded + rejected)
      throw new Error(`reconciliation failed for ${spec.name}: read ${read} ≠ loaded ${loaded} + rejected ${rejected}`);
    return {
      processed: read,
      inserted: loaded,
      rejected,
      deleted,
      detail: {
        source: spec.name,
        table: spec.stagingTable,
        windows: t.windows,
        planned: windows.length,
        resumedAtWindow: committed.size ? Math.max(resumedAt, 0) : 0,
        rowsThisAttempt: rows,
        ...(plan?.kind === 'time' ? { from: plan.from, to: plan.to } : {}),
      },
    };
  }

  /**
   * One extract per source at a time (backfill children overlap); waiting heartbeats so it is not mistaken for a hang.
   */
  async function waitForSourceLock(tx: PoolClient, source: string, heartbeat: () => void): Promise<void> {
    for (;;) {
      const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [
        `kusto-extract:${source}`,
      ]);
      if (rows[0]!.ok) return;
      heartbeat();
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async function loadOrCreatePlan(
    runKey: string,
    job: string,
    date: string,
    spec: KustoSourceSpec,
  ): Promise<WindowPlan | undefined> {
    const existing = await warehouse.query<{ plan: WindowPlan | { kind: 'empty' } }>(
      'SELECT plan FROM etl_kusto_runs WHERE run_key = $1 AND source = $2',
      [runKey, spec.name],
    );
    if (existing.rows[0]) {
      const p = existing.rows[0].plan;
      return p.kind === 'empty' ? undefined : p;
    }
    let plan: WindowPlan | undefined;
    if (spec.windows.kind === 'hash') plan = { kind: 'hash', partitions: config.kusto.partitions };
    else {
      const mark = await warehouse.query<{ value: string }>('SELECT value FROM etl_cursors WHERE name = $1', [
        WATERMARK(spec.name),
      ]);
      const range = timeRangeFor({
        targetDate: date,
        now: now(),
        watermark: mark.rows[0]?.value,
        lookbackDays: config.kusto.lookbackDays,
        historyStart: config.kusto.historyStart,
      });
      if (range)
        plan = {
          kind: 'time',
          ...range,
          stepDays: config.kusto.windowDays ?? spec.windows.stepDays,
          anchor: `${config.kusto.historyStart}T00:00:00.000Z`,
        };
    }
    await warehouse.query(
      `INSERT INTO etl_kusto_runs (run_key, source, job_name, target_date, plan) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (run_key, source) DO NOTHING`,
      [runKey, spec.name, job, date, JSON.stringify(plan ?? { kind: 'empty' })],
    );
    return plan;
  }

  async function committedWindows(runKey: string, source: string): Promise<Map<string, 'loaded' | 'split'>> {
    const { rows } = await warehouse.query<{ window_key: string; outcome: 'loaded' | 'split' }>(
      'SELECT window_key, outcome FROM etl_kusto_windows WHERE run_key = $1 AND source = $2',
      [runKey, source],
    );
    return new Map(rows.map((r) => [r.window_key, r.outcome]));
  }

  async function loadWindow(
    cluster: KustoCluster,
    spec: KustoSourceSpec,
    job: string,
    date: string,
    runKey: string,
    w: ExtractWindow,
    committed: Map<string, 'loaded' | 'split'>,
    heartbeat: () => void,
  ): Promise<WindowLoad> {
    const state = committed.get(w.key);
    if (state === 'loaded') return { read: 0, loaded: 0, rejected: 0 };
    if (state !== 'split') {
      const started = Date.now();
      heartbeat();
      let table: KustoTable;
      try {
        table = await cluster.query({
          name: spec.name,
          database: spec.database(config.kusto),
          text: spec.query(config.kusto),
          parameters:
            w.partitions !== undefined
              ? { partition: String(w.partition), partitions: String(w.partitions) }
              : { windowStart: w.start!, windowEnd: w.end! },
        });
      } catch (err) {
        if (!(err instanceof KustoLimitsError)) throw err;
        const halves = splitWindow(w);
        if (!halves) throw new ValidationError(`${err.message} — window ${w.key} cannot be cut any smaller`);
        logger.warn({ source: spec.name, window: w.key }, 'Kusto result over its limits: splitting the window');
        await warehouse.query(
          `INSERT INTO etl_kusto_windows (run_key, source, window_key, window_start, window_end, partition_no,
           partition_count, outcome, duration_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'split', $8)`,
          [
            runKey,
            spec.name,
            w.key,
            w.start ?? null,
            w.end ?? null,
            w.partition ?? null,
            w.partitions ?? null,
            Date.now() - started,
          ],
        );
        committed.set(w.key, 'split');
        return loadWindow(cluster, spec, job, date, runKey, w, committed, heartbeat);
      }
      const result = await commitWindow(spec, job, date, runKey, w, table, Date.now() - started);
      committed.set(w.key, 'loaded');
      return result;
    }
    const [a, b] = splitWindow(w)!;
    const x = await loadWindow(cluster, spec, job, date, runKey, a, committed, heartbeat);
    const y = await loadWindow(cluster, spec, job, date, runKey, b, committed, heartbeat);
    return { read: x.read + y.read, loaded: x.loaded + y.loaded, rejected: x.rejected + y.rejected };
  }

  async function commitWindow(
    spec: KustoSourceSpec,
    job: string,
    date: string,
    runKey: string,
    w: ExtractWindow,
    table: KustoTable,
    queryMs: number,
  ): Promise<WindowLoad> {
    const positions = spec.columns.map((c) => {
      const i = table.columns.findIndex((k) => k.name === c.name);
      if (i < 0) {
        throw new ValidationError(
          `Kusto query ${spec.name} returned columns [${table.columns.map((k) => k.name).join(', ')}] without ` +
            `${c.name}: the source schema changed`,
        );
      }
      return i;
    });
    const timeColumn =
      spec.windows.kind === 'time'
        ? spec.columns.find((c) => c.column === (spec.windows as { column: string }).column)!
        : undefined;
    const timeAt = timeColumn ? positions[spec.columns.indexOf(timeColumn)]! : -1;
    const startMs = w.start ? Date.parse(w.start) : 0;
    const endMs = w.end ? Date.parse(w.end) : 0;
    const rejects: Array<{ reason: string; raw: unknown }> = [];
    const prefix = spec.windows.kind === 'hash' ? `${escapeCopy(runKey)}\t${escapeCopy(w.key)}\t` : '';

    function* lines(): Generator<string> {
      let batch = '';
      let n = 0;
      for (const row of table.rows) {
        let line = prefix;
        let reject: string | undefined;
        for (let c = 0; c < spec.columns.length; c++) {
          const text = copyText(row[positions[c]!], spec.columns[c]!);
          if (typeof text !== 'string') {
            reject = text.reject;
            break;
          }
          line += c === 0 ? text : `\t${text}`;
        }
        if (!reject && timeAt >= 0) {
          // A row outside its window would escape the delete of a re-extraction: never load it.
          const t = Date.parse(row[timeAt] as string);
          if (t < startMs || t >= endMs) reject = `${timeColumn!.name} ${String(row[timeAt])} outside window ${w.key}`;
        }
        if (reject) {
          rejects.push({
            reason: reject,
            raw: { ...Object.fromEntries(table.columns.map((k, i) => [k.name, row[i] ?? null])), _window: w.key },
          });
          continue;
        }
        batch += `${line}\n`;
        if (++n % 1000 === 0) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    }

    const columns = [
      ...(spec.windows.kind === 'hash' ? ['run_key', 'partition_key'] : []),
      ...spec.columns.map((c) => c.column),
    ];
    return withTransaction(warehouse, async (wtx) => {
      if (spec.windows.kind === 'hash') {
        await wtx.query(`DELETE FROM ${spec.stagingTable} WHERE run_key = $1 AND partition_key = $2`, [runKey, w.key]);
      } else {
        await wtx.query(
          `DELETE FROM ${spec.stagingTable} WHERE ${spec.windows.column} >= $1 AND ${spec.windows.column} < $2`,
          [w.start, w.end],
        );
      }
      // A reloaded window replaces its earlier rejects too (whatever run or date loaded it before).
      await wtx.query(`DELETE FROM etl_rejects WHERE job_name = $1 AND raw->>'_window' = $2`, [job, w.key]);
      const copy = wtx.query(copyFrom(`COPY ${spec.stagingTable} (${columns.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from(lines()), copy);
      const loaded = Number(copy.rowCount ?? 0);
      if (rejects.length) {
        await wtx.query(
          `INSERT INTO etl_rejects (job_name, target_date, reason, raw)
           SELECT $1, $2, x.reason, x.raw FROM jsonb_to_recordset($3::jsonb) AS x(reason text, raw jsonb)`,
          [job, date, JSON.stringify(rejects, jsonbSafe)],
        );
      }
      const read = table.rows.length;
      if (read !== loaded + rejects.length)
        throw new Error(
          `reconciliation failed for ${spec.name} window ${w.key}: ` +
            `read ${read} ≠ loaded ${loaded} + rejected ${rejects.length}`,
        );
      await wtx.query(
        `INSERT INTO etl_kusto_windows (run_key, source, window_key, window_start, window_end, partition_no,
         partition_count, outcome, rows_read, rows_loaded, rows_rejected, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'loaded', $8, $9, $10, $11)`,
        [
          runKey,
          spec.name,
          w.key,
          w.start ?? null,
          w.end ?? null,
          w.partition ?? null,
          w.partitions ?? null,
          read,
          loaded,
          rejects.length,
          queryMs,
        ],
      );
      if (w.end) {
        // The watermark moves with the rows it covers; it never moves back (a backfill of an old day).
        await wtx.query(
          `INSERT INTO etl_cursors (name, value, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (name) DO UPDATE SET value = CASE WHEN etl_cursors.value::timestamptz <
             EXCLUDED.value::timestamptz
                                                         THEN EXCLUDED.value ELSE etl_cursors.value END,
                                                           updated_at = now()`,
          [WATERMARK(spec.name), w.end],
        );
      }
      return { read, loaded, rejected: rejects.length };
    });
  }
}

/**
 * JSON.stringify replacer for etl_rejects: jsonb refuses \u0000 and unpaired surrogate escapes, so
 * those characters are kept as the visible text "\\u0000" / "\\ud800" (the raw value stays
 * readable and the reject lands instead of failing the window).
 */
function jsonbSafe(_key: string, value: unknown): unknown {
  if (typeof value !== 'string' || !SUSPECT_CHAR.test(value)) return value;
  return value
    .replace(/\0/g, '\\u0000')
    .replace(LONE_SURROGATES, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeCopy(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}
