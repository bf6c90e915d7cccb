// CDC benchmark (issue 18), on a throwaway embedded Postgres (wal_level=logical, fsync off):
//   1. throughput: a backlog of 20,000 changes (updates of tracked columns in transactions of 50)
//      written while no consumer runs, then drained through the production path (consumeChanges +
//      applyCdcBatch, one warehouse transaction per batch, acknowledgement after commit); changes/s
//      per round, a warm-up round discarded, ≥ 5 measured, median and spread (bench/fair.ts rules).
//   2. lag: a producer committing at a fixed rate (1,000 and 5,000 changes/s: 100 transactions/s of
//      10 or 50 changes) while the consumer runs; lag = warehouse commit − source commit, per source
//      transaction; p50/p95 per round, median over the rounds.
//   3. memory: RSS and heap sampled every 500 ms through everything (should stay flat).
// Producer and consumer share this process and the machine is shared: the load average is printed.
// Last line: one JSON object (figures, targets, met). BENCH_CDC_SECONDS sets a lag round's length.
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { consumeChanges } from '../src/connectors/postgres-cdc/index.js';
import { createPool, withTransaction, type Pool } from '../src/connectors/postgres.js';
import { startCdc, type CdcSource } from '../src/pipelines/warehouse/cdc.js';
import { applyCdcBatch } from '../src/pipelines/warehouse/dimensions/cdc-apply.js';
import { createOltpSchema } from '../src/pipelines/warehouse/sample/schema.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { migrate } from '../src/warehouse/migrate.js';
import { finish, MIN_ROUNDS, percentile, round3, spread } from './fair.js';

const ROUNDS = Math.max(MIN_ROUNDS, Number(process.env.BENCH_ROUNDS ?? MIN_ROUNDS));
const LAG_SECONDS = Number(process.env.BENCH_CDC_SECONDS ?? 3);
const BACKLOG = 20_000;
const TENANTS = 5_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const memory: { t: number; rssMb: number; heapMb: number; phase: string }[] = [];
let phase = 'setup';
const t0 = Date.now();
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  memory.push({ t: Date.now() - t0, rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20, phase });
}, 500);

async function seed(oltp: Pool): Promise<string[]> {
  const { rows } = await oltp.query<{ id: string }>(
    `INSERT INTO platform.tenants (tenant_id, name, region, plan, is_active, created_at, updated_at)
     SELECT gen_random_uuid(), 'Tenant ' || g, 'eu', 'free', true, now(), now() FROM generate_series(1, $1) g
     RETURNING tenant_id::text AS id`,
    [TENANTS],
  );
  return rows.map((r) => r.id);
}

let version = 0;
/** One source transaction changing `n` tenants' names (a new SCD2 version each). */
async function change(oltp: Pool, ids: string[], n: number): Promise<void> {
  const start = Math.floor(Math.random() * (ids.length - n));
  await oltp.query(
    `UPDATE platform.tenants SET name = 'Tenant v' || $2::int, updated_at = now() WHERE tenant_id = ANY($1)`,
    [ids.slice(start, start + n), ++version],
  );
}

/** Consumes until `stop()` resolves true; records per-transaction lag (ms) and applied changes. */
async function consume(warehouse: Pool, src: CdcSource, until: (applied: number) => boolean, lags?: number[]) {
  const abort = new AbortController();
  let applied = 0;
  await consumeChanges(
    {
      connection: { connectionString: src.oltpUrl },
      slot: src.slot,
      publication: src.publication,
      durationMs: 120_000,
      maxBatchChanges: 5000,
      maxBatchWaitMs: 100,
      appliedLsn: (await warehouse.query('SELECT applied_lsn::text AS l FROM cdc_slot_state')).rows[0].l,
      signal: abort.signal,
    },
    async (batch) => {
      const counts = await withTransaction(warehouse, (tx) => applyCdcBatch(tx, src.name, batch));
      const now = Date.now();
      if (lags) for (const t of batch) lags.push(now - Date.parse(t.commitTime));
      applied += counts.changes;
      if (until(applied)) abort.abort();
    },
  );
  return applied;
}

async function main() {
  const port = await configuredOrFreePort(loadConfig().bench.pgPort);
  const dataDir = path.join(root, '.data', `bench-cdc-pg-${process.pid}`);
  console.log(`starting embedded Postgres on ${port} (throwaway, wal_level=logical, fsync off)…`);
  const pg = await startEmbeddedPostgres({ dataDir, port, databases: ['bench_oltp', 'bench_wh'], ephemeral: true });
  const oltp = createPool(pg.url('bench_oltp'), { max: 4 });
  const warehouse = createPool(pg.url('bench_wh'), { max: 4 });
  try {
    await migrate(warehouse);
    await createOltpSchema(oltp);
    const ids = await seed(oltp);
    const src: CdcSource = {
      name: 'bench',
      oltpUrl: pg.url('bench_oltp'),
      publication: 'bench_cdc',
      slot: 'bench_cdc',
    };
    await startCdc(warehouse, oltp, src);

    // 1. Throughput.
    phase = 'throughput';
    const perSecond: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      for (let i = 0; i < BACKLOG / 50; i++) await change(oltp, ids, 50);
      const t = performance.now();
      const applied = await consume(warehouse, src, (n) => n >= BACKLOG);
      const rate = (applied / (performance.now() - t)) * 1000;
      console.log(
        `throughput round ${round}${round === 0 ? ' (warm-up)' : ''}: ${applied} changes, ${Math.round(rate)}/s`,
      );
      if (round > 0) perSecond.push(rate);
    }

    // 2. Lag at fixed rates.
    const lagFigures: Record<string, unknown> = {};
    const lagP95: Record<number, number> = {};
    for (const rate of [1000, 5000]) {
      phase = `lag@${rate}`;
      const perTx = rate / 100;
      const p50s: number[] = [];
      const p95s: number[] = [];
      for (let round = 0; round <= ROUNDS; round++) {
        const lags: number[] = [];
        let produced = 0;
        let producing = true;
        const producer = (async () => {
          const start = performance.now();
          for (let k = 0; producing; k++) {
            const due = start + k * 10;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            await change(oltp, ids, perTx);
            produced += perTx;
            if (performance.now() - start >= LAG_SECONDS * 1000) producing = false;
          }
        })();
        const consumed = consume(warehouse, src, (n) => !producing && n >= produced, lags);
        await producer;
        await consumed;
        const p50 = percentile(lags, 50) / 1000;
        const p95 = percentile(lags, 95) / 1000;
        const achieved = produced / LAG_SECONDS;
        console.log(
          `lag @${rate}/s round ${round}${round === 0 ? ' (warm-up)' : ''}: produced ${Math.round(achieved)}/s, ` +
            `p50 ${p50.toFixed(3)} s, p95 ${p95.toFixed(3)} s over ${lags.length} transactions`,
        );
        if (round > 0) {
          p50s.push(p50);
          p95s.push(p95);
        }
      }
      lagP95[rate] = spread(p95s).median;
      lagFigures[`lag${rate}`] = { p50Seconds: spread(p50s), p95Seconds: spread(p95s) };
    }
    phase = 'done';

    const byPhase = (p: string) => memory.filter((m) => m.phase === p);
    const memoryFigures = Object.fromEntries(
      ['throughput', 'lag@1000', 'lag@5000'].map((p) => {
        const xs = byPhase(p);
        return [
          p,
          {
            samples: xs.length,
            rssMb: {
              first: round3(xs[0]?.rssMb ?? 0),
              last: round3(xs.at(-1)?.rssMb ?? 0),
              max: round3(Math.max(...xs.map((x) => x.rssMb))),
            },
            heapMb: {
              first: round3(xs[0]?.heapMb ?? 0),
              last: round3(xs.at(-1)?.heapMb ?? 0),
              max: round3(Math.max(...xs.map((x) => x.heapMb))),
            },
          },
        ];
      }),
    );
    const heapMax = (p: string) => Math.max(...byPhase(p).map((x) => x.heapMb));
    // Flat: the heap's peak at 5× the rate (and after everything before it) within 1.5× of the 1,000/s peak.
    const heapGrowth = round3(heapMax('lag@5000') / heapMax('lag@1000'));
    const tput = spread(perSecond);
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} on ${os.cpus().length} cores (shared machine)`,
    );
    finish(
      'cdc',
      {
        rounds: ROUNDS,
        lagRoundSeconds: LAG_SECONDS,
        changesPerSecond: { median: round3(tput.median), min: round3(tput.min), max: round3(tput.max) },
        ...lagFigures,
        memory: memoryFigures,
        heapGrowth5000vs1000: heapGrowth,
        loadAverage: os.loadavg().map(round3),
        cores: os.cpus().length,
      },
      [
        { name: 'changes applied per second (median)', value: Math.round(tput.median), op: '>=', target: 20_000 },
        { name: 'lag p95 at 1,000 changes/s (s)', value: round3(lagP95[1000]!), op: '<=', target: 5 },
        { name: 'heap peak at 5,000/s vs 1,000/s', value: heapGrowth, op: '<=', target: 1.5 },
      ],
    );
  } finally {
    clearInterval(sampler);
    await Promise.all([oltp.end(), warehouse.end()]);
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
