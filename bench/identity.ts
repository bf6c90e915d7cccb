// Benchmark: identity resolution at 1,000,000 learners × 3 identity sources, and the whole
// learning-roi pipeline at 10× the sample size.
//
// 1. Identity: the sample population, scaled so that its exam e-mails make ~1,000,000 learners,
//    is COPYed straight into staging (exams of both schemas, verified e-mails, signups). Then the
//    identity-resolve stage runs, each time in its own transaction, against the resolution SQL as it
//    was before issue 13 (bench/identity-reference.ts) on the same staged rows, alternating, warm-up
//    discarded, ≥ 5 rounds (bench/fair.ts). Every run's checksum of what it wrote (identities,
//    conflicts, rejects) must equal the reference's: the bench fails otherwise.
// 2. Pipeline: the learning-roi DAG (extracts in parallel, then identities, datasets, files, gates)
//    run by calling its activities in DAG order in this process, in sample mode: the real
//    azure-kusto-data client against the in-process sample Kusto server, COPY into staging, SQL
//    stages, CSV/JSON export. Throughput counts unique rows: each source row read by an extract,
//    once (not the sum of every node's rows). No Temporal: bench:orchestration measures that.
// The last line is one JSON object with every figure and target.
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createLearningRoiAggregateActivities } from '../src/pipelines/learning-roi/datasets.js';
import type { ActivityDeps } from '../src/runtime/deps.js';
import { createKustoExtractActivities } from '../src/pipelines/learning-roi/extract.js';
import { createLearnerIdentityActivities, resolveLearners } from '../src/pipelines/learning-roi/identity.js';
import { IDENTITY_PARTITIONS } from '../src/pipelines/learning-roi/identity-partitions.js';
import { createLearningRoiExportActivities } from '../src/pipelines/learning-roi/export.js';
import { createLearningRoiQualityActivities } from '../src/pipelines/learning-roi/gates.js';
import { loadConfig } from '../src/config.js';
import { createPool, withTransaction, type PoolClient } from '../src/connectors/postgres.js';
import { createLogger } from '../src/logging.js';
import { learningRoi } from '../src/pipelines/learning-roi/definition.js';
import type { NodeInput, NodeResult } from '../src/pipelines/types.js';
import { sampleKustoServer } from '../src/pipelines/learning-roi/sample/source.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { migrate } from '../src/warehouse/migrate.js';
import { createSourceClients } from '../src/stack/source-clients.js';
import { compare, finish, round3, speedRatio, spread, type Target } from './fair.js';
import { identityChecksum, PEOPLE_AT_1X, stageIdentityInputs } from './identity-population.js';
import { resolveLearnersReference } from './identity-reference.js';

const root = path.resolve(import.meta.dirname, '..');
/** BENCH_IDENTITY_LEARNERS: a smaller population for a quick look (the target holds at 1M only). */
const TARGET_LEARNERS = Number(process.env.BENCH_IDENTITY_LEARNERS ?? 1_000_000);
const RESOLVE_TARGET_SECONDS = 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PIPELINE_SCALE = Number(process.env.BENCH_PIPELINE_SCALE ?? 10);
const JOB = 'bench_identity';
/** Which parts to run: resolution (1M learners vs the previous SQL) and/or pipeline (the DAG). */
const PARTS = (process.env.BENCH_IDENTITY_PARTS ?? 'resolution,pipeline').split(',');
const DATE = '2026-11-22';
const secs = (ms: number) => Math.round(ms) / 1000;
const fmt = (n: number) => n.toLocaleString('en-US');

interface PipelineRound {
  /** Rows read from the sources by the extract nodes: each source row once. */
  extractedRows: number;
  /** Rows the DAG's nodes report in total (a row counts once per node that touches it). */
  nodeRowsSum: number;
  stages: Record<string, { seconds: number; rows: number }>;
  datasets: Record<string, number>;
  gates: string;
}

/** CPU milliseconds a local process has used (utime + stime, in clock ticks of 10 ms). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU milliseconds the whole Postgres server has used: the postmaster, its live children (backends,
 * parallel connections, background processes) and the children it has reaped (cutime + cstime). The
 * stage's parallel connections are other backends, so one backend's CPU would undercount it.
 */
function serverCpuMs(postmaster: number): number {
  const own = readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]!.split(' ');
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended between the listing and the read: the postmaster's cutime has it
    }
  }
  return ticks * 10;
}

/** Retries infrastructure errors as Temporal would (no Temporal here): the retry's time counts. */
async function withRetries<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { kind?: string }).kind !== 'transient' || attempt >= attempts) throw err;
      console.log(`  retrying after a transient error: ${(err as Error).message}`);
    }
  }
}

/** The learning-roi DAG over one database at `scale`, ready to run (forced) as many times as asked. */
async function pipelineRunner(url: string, scale: number) {
  const pool = createPool(url, { max: 12 });
  await migrate(pool);
  const outputDir = path.join(root, '.data', `bench-identity-out-${process.pid}-${scale}`);
  const config = loadConfig({
    LEARNING_ROI_SAMPLE_SCALE: String(scale),
    LEARNSYNC_OUTPUT_DIR: outputDir,
    LOG_LEVEL: 'warn',
  });
  const deps: ActivityDeps = {
    warehouse: pool,
    oltp: pool,
    outputDir,
    logger: createLogger({ level: 'warn' }),
    config,
    sources: createSourceClients(config),
  };
  const acts: Record<string, (i: NodeInput) => Promise<NodeResult>> = {
    ...createKustoExtractActivities(deps),
    ...createLearnerIdentityActivities(deps),
    ...createLearningRoiAggregateActivities(deps),
    ...createLearningRoiExportActivities(deps),
    ...createLearningRoiQualityActivities(deps),
  };
  const ti = Date.now();
  await sampleKustoServer(scale); // the sample's index, built once per process, outside the timing
  const indexSeconds = secs(Date.now() - ti);
  let last: PipelineRound | undefined;

  const extractedPerRun: number[] = [];

  async function runOnce(): Promise<number> {
    const stages: PipelineRound['stages'] = {};
    const results = new Map<string, NodeResult>();
    const started = new Map<string, Promise<NodeResult>>();
    const run = (id: string): Promise<NodeResult> => {
      let p = started.get(id);
      if (!p) {
        const node = learningRoi.nodes.find((n) => n.id === id)!;
        p = (async () => {
          await Promise.all((node.dependsOn ?? []).map(run));
          const s = Date.now();
          const r = await withRetries(() =>
            acts[node.activity]!({
              pipeline: learningRoi.name,
              nodeId: node.id,
              targetDate: DATE,
              force: true,
              params: node.input ?? {},
            }),
          );
          stages[node.id] = { seconds: secs(Date.now() - s), rows: r.rows };
          results.set(id, r);
          return r;
        })();
        started.set(id, p);
      }
      return p;
    };
    await Promise.all(learningRoi.nodes.map((n) => run(n.id)));
    const extracts = learningRoi.nodes.filter((n) => n.activity === 'extractKustoSource');
    const datasets = Object.fromEntries(
      (
        await pool.query<{ dataset: string; rows: string }>(
          `SELECT DISTINCT ON (dataset) dataset, rows FROM learning_roi.dataset_syncs WHERE status = ` +
            `'success' ORDER BY dataset, id DESC`,
        )
      ).rows.map((r) => [r.dataset, Number(r.rows)]),
    );
    const gates = results.get('roi_quality_gates')!.detail;
    last = {
      extractedRows: extracts.reduce((sum, n) => sum + results.get(n.id)!.rows, 0),
      nodeRowsSum: [...results.values()].reduce((sum, r) => sum + r.rows, 0),
      stages,
      datasets,
      gates: `${gates?.passed} passed, ${gates?.warned} warned, ${gates?.failed} failed`,
    };
    extractedPerRun.push(last.extractedRows);
    return 1; // one run: forced reruns of windowed extracts read a different number of source rows
  }

  return {
    indexSeconds,
    runOnce,
    extractedPerRun,
    last: () => last!,
    close: async () => {
      await pool.end();
      await rm(outputDir, { recursive: true, force: true });
    },
  };
}

async function main() {
  // BENCH_PG_PORT when set, else a free port.
  const port = await configuredOrFreePort(loadConfig().bench.pgPort);
  const dataDir = path.join(root, '.data', `bench-identity-${process.pid}`);
  const dbs = ['bench_identity_1x', 'bench_identity_1m', 'bench_pipeline'];
  const pg = await startEmbeddedPostgres({ dataDir, port, databases: dbs, ephemeral: true });
  try {
    let identityFigures: Record<string, unknown> | undefined;
    let pipelineFigures: Record<string, unknown> | undefined;
    const targets: Target[] = [];
    if (PARTS.includes('resolution')) {
      // Sizing: how many people of the sample make ~1,000,000 learners.
      const p1 = createPool(pg.url('bench_identity_1x'));
      await migrate(p1);
      await stageIdentityInputs(p1, PEOPLE_AT_1X);
      const at1x = await withTransaction(p1, (tx) => resolveLearners(tx, JOB, DATE));
      await p1.end();
      const people = Math.ceil((PEOPLE_AT_1X * TARGET_LEARNERS) / at1x.learners);

      console.log(`identity resolution — ${fmt(people)} people for ~${fmt(TARGET_LEARNERS)} learners`);
      const pm = createPool(pg.url('bench_identity_1m'));
      await migrate(pm);
      const t0 = Date.now();
      const staged = await stageIdentityInputs(pm, people);
      const stagedRows = staged.ace + staged.pearson + staged.emails + staged.signups;
      console.log(
        `  staged ${fmt(stagedRows)} rows (${Object.entries(staged)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}) in ${secs(Date.now() - t0)} s`,
      );

      // Server CPU of each resolution: the whole server's utime+stime from /proc (embedded Postgres
      // runs on this machine), since learnsync's stage also works on parallel connections; and the
      // stage's own backend alone. Figures other processes' load does not inflate, unlike wall time.
      const postmaster = pg.pid;
      const cpuMs: Record<string, number[]> = { reference: [], learnsync: [] };
      const backendMs: Record<string, number[]> = { reference: [], learnsync: [] };
      const withCpu = async <T>(side: string, fn: (tx: PoolClient) => Promise<T>): Promise<T> => {
        return withTransaction(pm, async (tx) => {
          const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          const before = backendCpuMs(pid);
          const serverBefore = postmaster === undefined ? 0 : serverCpuMs(postmaster);
          const out = await fn(tx);
          backendMs[side]!.push(backendCpuMs(pid) - before);
          cpuMs[side]!.push(postmaster === undefined ? NaN : serverCpuMs(postmaster) - serverBefore);
          return out;
        });
      };
      let reference: string | undefined;
      let counts: Awaited<ReturnType<typeof resolveLearners>> | undefined;
      const checked = async (name: string) => {
        const sum = await identityChecksum(pm, JOB);
        reference ??= sum;
        if (sum !== reference)
          throw new Error(`${name} wrote checksum ${sum}, the reference wrote ${reference}: results differ`);
      };
      const identity = await compare(
        [
          {
            name: 'before (reference SQL)',
            run: async () => (await withCpu('reference', (tx) => resolveLearnersReference(tx, JOB, DATE))).learners,
            teardown: () => checked('the reference'),
          },
          {
            name: 'learnsync',
            run: async () =>
              (counts = await withCpu('learnsync', (tx) => resolveLearners(tx, JOB, DATE, { parallel: pm }))).learners,
            teardown: () => checked('learnsync'),
          },
        ],
        { rounds: ROUNDS },
      );
      await pm.end();
      // the first run of each side is the warm-up round
      const cpu = Object.fromEntries(Object.entries(cpuMs).map(([k, xs]) => [k, spread(xs.slice(1))]));
      const backendCpu = Object.fromEntries(Object.entries(backendMs).map(([k, xs]) => [k, spread(xs.slice(1))]));
      const cpuRatio = round3(cpu.reference!.median / cpu.learnsync!.median);
      const ours = identity.sides.learnsync!;
      const before = identity.sides['before (reference SQL)']!;
      const resolveSeconds = round3(ours.msStats.median / 1000);
      const speedup = speedRatio(identity, 'learnsync', 'before (reference SQL)');
      console.log(
        `  ${fmt(ours.units)} learners (${fmt(staged.emails + staged.signups)} identity rows, ` +
          `${fmt(counts!.conflicts)} conflicts, rate ${(counts!.resolved / counts!.learners).toFixed(4)}): ` +
          `median ${resolveSeconds} s (min ${round3(ours.msStats.min / 1000)}, max ` +
          `${round3(ours.msStats.max / 1000)}), ${fmt(Math.round(ours.perSecond.median))} learners/s; ` +
          `before: median ${round3(before.msStats.median / 1000)} s → ×${speedup}; checksum ${reference} ` +
          `identical in every run`,
      );
      console.log(
        `  server CPU per resolution (all backends): learnsync median ${round3(cpu.learnsync!.median / 1000)} s ` +
          `(min ${round3(cpu.learnsync!.min / 1000)}, max ${round3(cpu.learnsync!.max / 1000)}) beside ` +
          `${resolveSeconds} s wall, before ${round3(cpu.reference!.median / 1000)} s → ×${cpuRatio}; the ` +
          `stage's own backend: learnsync ${round3(backendCpu.learnsync!.median / 1000)} s, before ` +
          `${round3(backendCpu.reference!.median / 1000)} s`,
      );

      identityFigures = {
        people,
        stagedRows,
        learners: ours.units,
        resolved: counts!.resolved,
        conflicts: counts!.conflicts,
        bySource: counts!.bySource,
        checksum: reference,
        checksumsIdentical: true,
        rounds: identity.rounds,
        warmup: identity.warmup,
        learnsync: { ms: ours.msStats, learnersPerSec: ours.perSecond },
        before: { ms: before.msStats, learnersPerSec: before.perSecond },
        serverCpuMs: cpu,
        stageBackendCpuMs: backendCpu,
        parallelConnections: IDENTITY_PARTITIONS,
        ratios: { speedupVsBefore: speedup, serverCpuBeforeOverLearnsync: cpuRatio },
      };
      targets.push({
        name: 'identity resolution of ~1M learners × 3 sources, median seconds',
        value: resolveSeconds,
        op: '<=',
        target: RESOLVE_TARGET_SECONDS,
      });
    }
    if (PARTS.includes('pipeline')) {
      console.log(`whole pipeline — ${PIPELINE_SCALE}× the sample, ${ROUNDS} rounds after a warm-up`);
      const runner = await pipelineRunner(pg.url('bench_pipeline'), PIPELINE_SCALE);
      const pipeline = await compare([{ name: 'pipeline', run: runner.runOnce }], { rounds: ROUNDS });
      const pl = pipeline.sides.pipeline!;
      const lastRound = runner.last();
      const measuredRows = runner.extractedPerRun.slice(pipeline.warmup);
      const rowsPerSec = spread(measuredRows.map((rows, i) => (rows * 1000) / pl.ms[i]!));
      await runner.close();
      console.log(`${'stage (last round)'.padEnd(28)} ${'s'.padStart(8)} ${'rows'.padStart(11)}`);
      for (const [id, st] of Object.entries(lastRound.stages))
        console.log(`${id.padEnd(28)} ${st.seconds.toFixed(2).padStart(8)} ${fmt(st.rows).padStart(11)}`);
      console.log(
        `  ${measuredRows.map(fmt).join(' / ')} unique source rows through the DAG per run: median ` +
          `${round3(pl.msStats.median / 1000)} s (min ${round3(pl.msStats.min / 1000)}, max ` +
          `${round3(pl.msStats.max / 1000)}), ` +
          `${fmt(Math.round(rowsPerSec.median))} unique rows/s (min ${fmt(Math.round(rowsPerSec.min))}, ` +
          `max ${fmt(Math.round(rowsPerSec.max))}) (the sum over nodes, ${fmt(lastRound.nodeRowsSum)}, ` +
          `counts rows several times); gates: ${lastRound.gates}`,
      );

      pipelineFigures = {
        scale: PIPELINE_SCALE,
        sampleIndexSeconds: runner.indexSeconds,
        rounds: pipeline.rounds,
        uniqueSourceRowsPerRun: measuredRows,
        ms: pl.msStats,
        uniqueRowsPerSec: rowsPerSec,
        nodeRowsSum: lastRound.nodeRowsSum,
        lastRoundStages: lastRound.stages,
        datasets: lastRound.datasets,
        gates: lastRound.gates,
      };
    }
    finish(
      'identity',
      { date: new Date().toISOString(), identity: identityFigures, pipeline: pipelineFigures },
      targets,
    );
  } finally {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
