// Warehouse ETL benchmark, one run at benchmark scale (100,000 learners, 1,000,000 session events
// a day), every baseline measured in the same run:
//   1. move: the day's session events OLTP → warehouse staging through our code path (the fact
//      job's stage step: one source snapshot, COPY stream into a temp table, ANALYZE), against a
//      raw `COPY (…) TO STDOUT | COPY … FROM STDIN` pipe between the same two databases, same
//      query, same kind of target table. Three rounds each, alternating; medians compared.
//   2. build: the five fact jobs of a 1,000,000-event day, in parallel as the pipeline runs them.
//   3. memory: peak RSS and heap of a worker-like child process building all facts for a
//      100,000-event day and for a 1,000,000-event day (should stay flat: rows never enter Node).
// Prints rows/s and ratios; the last line is one JSON object with every figure.
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
import { stageFromSource, withSourceSnapshot } from '../src/pipelines/warehouse/stage.js';
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

const SMALL_DAY = '2026-03-09';
const BIG_DAY = '2026-03-10';
const SMALL_EVENTS = 100_000;
const BIG_EVENTS = 1_000_000;
const ROUNDS = 3;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

// ── the raw baseline: nothing of ours, just two COPY streams piped together ──
async function rawPipe(
  oltpUrl: string,
  warehouseUrl: string,
  select: string,
  columns: readonly (readonly [string, string])[],
): Promise<number> {
  const src = new pg.Client({ connectionString: oltpUrl });
  const dst = new pg.Client({ connectionString: warehouseUrl });
  await Promise.all([src.connect(), dst.connect()]);
  try {
    await dst.query('BEGIN');
    await dst.query(`CREATE TEMP TABLE raw_stage (${columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ON COMMIT DROP`);
    const into = dst.query(copyFrom(`COPY raw_stage (${columns.map(([n]) => n).join(', ')}) FROM STDIN`));
    await pipeline(src.query(copyTo(`COPY (${select}) TO STDOUT`)), into);
    await dst.query('COMMIT');
    return Number(into.rowCount);
  } finally {
    await Promise.all([src.end(), dst.end()]);
  }
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
      // Let every late event arrive, so the big day holds all its million events (bar the few whose session is
      // unknown).
      await withTransaction(oltp, (tx) => deliverLateEvents(tx, addDays(BIG_DAY, 3)));
    });
    console.log(
      `seeded OLTP: ${fmt(scale.learners)} learners, ` +
        `${fmt(SMALL_EVENTS)} + ${fmt(BIG_EVENTS)} session events in ${secs(seed.ms)} s`,
    );
    await migrate(warehouse);
    const dims = await timed(async () => {
      for (const spec of DIMENSIONS) await withTransaction(warehouse, (tx) => syncDimension(oltp, tx, spec));
    });
    console.log(`dimensions synced in ${secs(dims.ms)} s`);

    // 1. move
    const day = factDay(BIG_DAY);
    const stage = sessionEventsStage(day.dayStart, day.dayEnd);
    const raw: number[] = [];
    const ours: number[] = [];
    let moved = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await timed(() => rawPipe(oltpUrl, warehouseUrl, stage.select, stage.columns));
      const o = await timed(() =>
        withTransaction(warehouse, (tx) => withSourceSnapshot(oltp, (src) => stageFromSource(src, tx, stage))),
      );
      if (r.value !== o.value) throw new Error(`raw pipe moved ${r.value} rows, ours ${o.value}`);
      moved = o.value;
      raw.push(r.value / (r.ms / 1000));
      ours.push(o.value / (o.ms / 1000));
      console.log(
        `move round ${round}: raw pipe ${fmt(raw.at(-1)!)} rows/s, ` +
          `ours ${fmt(ours.at(-1)!)} rows/s (${fmt(moved)} rows)`,
      );
    }
    const moveRatio = median(ours) / median(raw);
    console.log(
      `move: ours ${fmt(median(ours))} rows/s vs raw COPY pipe ${fmt(median(raw))} rows/s → ratio ` +
        `${moveRatio.toFixed(3)} (target ≥ 0.8)`,
    );

    // 2. build
    const build = await timed(() => buildFacts(oltp, warehouse, BIG_DAY));
    const jobs = build.value;
    const stagedEvents = Number(jobs.build_fact_sessions!.detail?.staged_session_events ?? 0);
    for (const [job, r] of Object.entries(jobs)) {
      console.log(
        `  ${job.padEnd(34)} ${secs(r.ms).padStart(6)} s  read ${fmt(r.rows).padStart(9)}  loaded ` +
          `${fmt(r.inserted ?? 0).padStart(9)}  rejected ${fmt(r.rejected ?? 0)}`,
      );
    }
    console.log(
      `fact build for the ${fmt(stagedEvents)}-event day: ${secs(build.ms)} s wall ` +
        `(${fmt(stagedEvents / (build.ms / 1000))} session events/s)`,
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

    const figures = {
      bench: 'warehouse',
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
        rounds: ROUNDS,
        rawPipeRowsPerSec: Math.round(median(raw)),
        oursRowsPerSec: Math.round(median(ours)),
        ratio: +moveRatio.toFixed(3),
        target: 0.8,
        rawRounds: raw.map(Math.round),
        oursRounds: ours.map(Math.round),
      },
      factBuild: {
        events: stagedEvents,
        wallSeconds: +secs(build.ms),
        eventsPerSec: Math.round(stagedEvents / (build.ms / 1000)),
        jobs: Object.fromEntries(
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
    };
    console.log(JSON.stringify(figures));
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
