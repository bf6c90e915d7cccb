// Warehouse ETL benchmark, one run at benchmark scale (100,000 learners, 1,000,000 session events
// a day), every baseline measured in the same run:
//   1. move: the day's session events OLTP → warehouse staging through our code path (the fact
//      job's stage step: pooled connections, one source snapshot, COPY stream into a temp table,
//      ANALYZE), against a raw binary `COPY (…) TO STDOUT (FORMAT binary) | COPY … FROM STDIN
//      (FORMAT binary)` pipe between the same two databases. Same work both sides (bench/fair.ts):
//      same query, same primary-keyed target table, connections opened outside the timing on both
//      sides, one ANALYZE each; the order alternates, a warm-up round is discarded, medians compared.
//   2. build: the five fact jobs of a 1,000,000-event day, in parallel as the pipeline runs them
//      (warm-up + measured rounds, median and spread).
//   3. memory: peak RSS and heap of a worker-like child process building all facts for a
//      100,000-event day and for a 1,000,000-event day (should stay flat: rows never enter Node).
// Prints rows/s and ratios; the last line is one JSON object with every figure and target.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import pino from 'pino';
import { syncDimension } from '../src/pipelines/warehouse/dimensions/sync.js';
import { DIMENSIONS } from '../src/pipelines/warehouse/dimensions/specs.js';
import { factDay } from '../src/pipelines/warehouse/facts/build.js';
import { sessionEventsStage } from '../src/pipelines/warehouse/facts/sessions.js';
import { createWarehouseActivities } from '../src/pipelines/warehouse/activities.js';
import {
  columnNames,
  stageFromSource,
  stageTableDdl,
  withSourceSnapshot,
  type StageSpec,
} from '../src/pipelines/warehouse/stage.js';
import { loadConfig } from '../src/config.js';
import { createPool, withTransaction, type Pool } from '../src/connectors/postgres.js';
import { warehouseFacts } from '../src/pipelines/warehouse/definition.js';
import type { NodeResult } from '../src/pipelines/types.js';
import { addDays } from '../src/pipelines/dates.js';
import { deliverLateEvents } from '../src/pipelines/warehouse/sample/activity.js';
import { applyOltpDay, BENCH_SCALE, seedOltpBaseline } from '../src/pipelines/warehouse/sample/generator.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { migrate } from '../src/warehouse/migrate.js';
import { createSourceClients } from '../src/stack/source-clients.js';
import { compare, finish, speedRatio, type Comparison } from './fair.js';

const SMALL_DAY = '2026-03-09';
const BIG_DAY = '2026-03-10';
const SMALL_EVENTS = 100_000;
const BIG_EVENTS = 1_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MOVE_TARGET = 0.9;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** Runs the five fact jobs for a date in parallel, forced, as warehouse-facts does. */
async function buildFacts(
  oltp: Pool,
  warehouse: Pool,
  date: string,
): Promise<Record<string, NodeResult & { ms: number }>> {
  const acts = createWarehouseActivities({
    oltp,
    warehouse,
    outputDir: '/tmp',
    logger: pino({ level: 'silent' }),
    config: loadConfig({}),
    sources: createSourceClients(loadConfig({})),
  });
  const entries = await Promise.all(
    warehouseFacts.nodes.map(async (n) => {
      const activity = acts[n.activity as keyof typeof acts];
      const r = await timed(() =>
        activity({ pipeline: 'warehouse-facts', nodeId: n.id, targetDate: date, force: true, params: {} }),
      );
      return [n.id, { ...r.value, ms: Math.round(r.ms) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

// ── child: a worker-like process that builds one day's facts and reports its peak memory ──
async function child(date: string): Promise<void> {
  const oltp = createPool(process.env.BENCH_OLTP_URL!, { max: 8 });
  const warehouse = createPool(process.env.BENCH_WAREHOUSE_URL!, { max: 12 });
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
  const startRss = process.memoryUsage().rss;
  const { ms } = await timed(() => buildFacts(oltp, warehouse, date));
  clearInterval(sampler);
  await Promise.all([oltp.end(), warehouse.end()]);
  const out = {
    date,
    ms: Math.round(ms),
    startRssMb: startRss / 2 ** 20,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runChild(
  date: string,
  env: Record<string, string>,
): Promise<{ ms: number; startRssMb: number; peakRssMb: number; peakHeapMb: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child-build', date], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!))
        : reject(new Error(`child build of ${date} exited ${code}`)),
    );
  });
}

// ── the raw baseline: nothing of ours, two COPY streams piped together on connections already open ──
async function rawPipe(src: pg.Client, dst: pg.Client, spec: StageSpec, format: 'binary' | 'text'): Promise<number> {
  const fmtClause = format === 'binary' ? ' (FORMAT binary)' : '';
  await dst.query('BEGIN');
  try {
    await dst.query(stageTableDdl(spec));
    const into = dst.query(copyFrom(`COPY ${spec.table} (${columnNames(spec).join(', ')}) FROM STDIN${fmtClause}`));
    await pipeline(src.query(copyTo(`COPY (${spec.select}) TO STDOUT${fmtClause}`)), into);
    await dst.query(`ANALYZE ${spec.table}`); // the same post-load statistics as ours
    await dst.query('COMMIT');
    return Number(into.rowCount);
  } catch (err) {
    await dst.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** The day's session events with their key, into a primary-keyed stage table: the shape both sides load. */
function keyedEventsStage(dayStart: string, dayEnd: string): StageSpec {
  const stage = sessionEventsStage(dayStart, dayEnd);
  return {
    table: 'stage_session_events_keyed',
    columns: [['event_id', 'BIGINT'], ...stage.columns],
    select: stage.select.replace('SELECT e.session_id', 'SELECT e.event_id, e.session_id'),
    primaryKey: ['event_id'],
  };
}

async function main(): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dataDir = path.join(root, '.data', `bench-warehouse-${process.pid}`);
  // BENCH_PG_PORT when set, else a free port.
  const port = await configuredOrFreePort(loadConfig().bench.pgPort);
  console.log(`starting embedded Postgres on ${port} (throwaway cluster, fsync off for both paths alike)…`);
  const pgHandle = await startEmbeddedPostgres({
    dataDir,
    port,
    databases: ['bench_oltp', 'bench_warehouse'],
    ephemeral: true,
  });
  const oltpUrl = pgHandle.url('bench_oltp');
  const warehouseUrl = pgHandle.url('bench_warehouse');
  const oltp = createPool(oltpUrl, { max: 8 });
  const warehouse = createPool(warehouseUrl, { max: 12 });
  try {
    const scale = BENCH_SCALE;
    const seed = await timed(async () => {
      await seedOltpBaseline(oltp, scale, SMALL_DAY);
      await applyOltpDay(oltp, scale, SMALL_DAY, { eventsPerDay: SMALL_EVENTS });
      await applyOltpDay(oltp, scale, BIG_DAY, { eventsPerDay: BIG_EVENTS });
      // Let every late event arrive, so the big day holds all its million events (bar the few whose
      // session is unknown).
      await withTransaction(oltp, (tx) => deliverLateEvents(tx, addDays(BIG_DAY, 3)));
    });
    console.log(
      `seeded OLTP: ${fmt(scale.learners)} learners, ${fmt(SMALL_EVENTS)} + ${fmt(BIG_EVENTS)} session ` +
        `events in ${secs(seed.ms)} s`,
    );
    await migrate(warehouse);
    const dims = await timed(async () => {
      for (const spec of DIMENSIONS) await withTransaction(warehouse, (tx) => syncDimension(oltp, tx, spec));
    });
    console.log(`dimensions synced in ${secs(dims.ms)} s`);

    // 1. move: same query, same keyed table, warm connections and one ANALYZE on every side
    const day = factDay(BIG_DAY);
    const spec = keyedEventsStage(day.dayStart, day.dayEnd);
    const src = new pg.Client({ connectionString: oltpUrl });
    const dst = new pg.Client({ connectionString: warehouseUrl });
    await Promise.all([src.connect(), dst.connect()]);
    console.log(`move: ${ROUNDS} measured rounds after a warm-up, order rotating`);
    const move = await compare(
      [
        { name: 'raw binary pipe', run: () => rawPipe(src, dst, spec, 'binary') },
        {
          name: 'learnsync',
          run: () => withTransaction(warehouse, (tx) => withSourceSnapshot(oltp, (s) => stageFromSource(s, tx, spec))),
        },
        { name: 'raw text pipe', run: () => rawPipe(src, dst, spec, 'text') },
      ],
      { rounds: ROUNDS },
    );
    await Promise.all([src.end(), dst.end()]);
    const moved = move.sides.learnsync!.units;
    const moveRatio = speedRatio(move, 'learnsync', 'raw binary pipe');
    const binaryVsText = speedRatio(move, 'raw binary pipe', 'raw text pipe');
    for (const s of Object.values(move.sides)) {
      console.log(
        `  ${s.name.padEnd(16)} median ${fmt(s.perSecond.median)} rows/s (min ${fmt(s.perSecond.min)}, ` +
          `max ${fmt(s.perSecond.max)}), ${fmt(moved)} rows`,
      );
    }
    console.log(
      `move: learnsync / raw binary pipe = ${moveRatio} (target ≥ ${MOVE_TARGET}); raw binary / raw text ` +
        `= ${binaryVsText}`,
    );

    // 2. build: warm-up + measured rounds of the five fact jobs in parallel
    console.log(`fact build of ${BIG_DAY}: ${ROUNDS} measured rounds after a warm-up`);
    let jobs: Record<string, NodeResult & { ms: number }> = {};
    const build = await compare(
      [
        {
          name: 'fact build',
          run: async () => {
            jobs = await buildFacts(oltp, warehouse, BIG_DAY);
            return Number(jobs.build_fact_sessions!.detail?.staged_session_events ?? 0);
          },
        },
      ],
      { rounds: ROUNDS },
    );
    const stagedEvents = build.sides['fact build']!.units;
    const buildMs = build.sides['fact build']!.msStats;
    for (const [job, r] of Object.entries(jobs)) {
      console.log(
        `  ${job.padEnd(34)} ${secs(r.ms).padStart(6)} s  read ${fmt(r.rows).padStart(9)}  loaded ` +
          `${fmt(r.inserted ?? 0).padStart(9)}  rejected ${fmt(r.rejected ?? 0)}`,
      );
    }
    console.log(
      `fact build for the ${fmt(stagedEvents)}-event day: median ${secs(buildMs.median)} s wall (min ` +
        `${secs(buildMs.min)}, max ${secs(buildMs.max)}), ` +
        `${fmt(build.sides['fact build']!.perSecond.median)} session events/s`,
    );

    // 3. memory, in fresh processes
    const env = { BENCH_OLTP_URL: oltpUrl, BENCH_WAREHOUSE_URL: warehouseUrl };
    const small = await runChild(SMALL_DAY, env);
    const big = await runChild(BIG_DAY, env);
    const rssRatio = big.peakRssMb / small.peakRssMb;
    const heapRatio = big.peakHeapMb / small.peakHeapMb;
    console.log(
      `memory, ${fmt(SMALL_EVENTS)}-event day: peak RSS ${small.peakRssMb.toFixed(0)} MB, peak heap ` +
        `${small.peakHeapMb.toFixed(0)} MB (build ${secs(small.ms)} s)`,
    );
    console.log(
      `memory, ${fmt(BIG_EVENTS)}-event day: peak RSS ${big.peakRssMb.toFixed(0)} MB, peak heap ` +
        `${big.peakHeapMb.toFixed(0)} MB (build ${secs(big.ms)} s)`,
    );
    console.log(
      `memory ratio at 10× the events: RSS ${rssRatio.toFixed(2)}×, heap ${heapRatio.toFixed(2)}× (target: flat)`,
    );

    const sideFigures = (c: Comparison) =>
      Object.fromEntries(
        Object.values(c.sides).map((x) => [
          x.name,
          { medianMs: x.msStats.median, ms: x.msStats, rowsPerSec: x.perSecond },
        ]),
      );
    finish(
      'warehouse',
      {
        date: new Date().toISOString(),
        scale: {
          tenants: scale.tenants,
          learners: scale.learners,
          smallDayEvents: SMALL_EVENTS,
          bigDayEvents: BIG_EVENTS,
        },
        seedSeconds: +secs(seed.ms),
        dimensionSyncSeconds: +secs(dims.ms),
        move: {
          rows: moved,
          rounds: move.rounds,
          warmup: move.warmup,
          sides: sideFigures(move),
          ratios: { learnsyncVsRawBinary: moveRatio, rawBinaryVsRawText: binaryVsText },
        },
        factBuild: {
          events: stagedEvents,
          rounds: build.rounds,
          wallMs: buildMs,
          eventsPerSec: build.sides['fact build']!.perSecond,
          lastRoundJobs: Object.fromEntries(
            Object.entries(jobs).map(([j, r]) => [
              j,
              { seconds: +secs(r.ms), read: r.rows, loaded: r.inserted, rejected: r.rejected },
            ]),
          ),
        },
        memory: {
          small: {
            events: SMALL_EVENTS,
            peakRssMb: +small.peakRssMb.toFixed(1),
            peakHeapMb: +small.peakHeapMb.toFixed(1),
            startRssMb: +small.startRssMb.toFixed(1),
          },
          big: {
            events: BIG_EVENTS,
            peakRssMb: +big.peakRssMb.toFixed(1),
            peakHeapMb: +big.peakHeapMb.toFixed(1),
            startRssMb: +big.startRssMb.toFixed(1),
          },
          rssRatio: +rssRatio.toFixed(3),
          heapRatio: +heapRatio.toFixed(3),
        },
      },
      [
        { name: 'move, learnsync / raw binary COPY pipe (medians)', value: moveRatio, op: '>=', target: MOVE_TARGET },
        { name: 'peak RSS at 10× the events (flat)', value: +rssRatio.toFixed(3), op: '<=', target: 1.5 },
      ],
    );
  } finally {
    await Promise.all([oltp.end(), warehouse.end()]);
    await pgHandle.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child-build') {
  child(process.argv[3]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(`bench:warehouse failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
