// `npm run bench:chaos`: an 8-date warehouse-nightly backfill at the demo's scale (10,000 learners,
// 200,000 session events a day), concurrency 2, on a Postgres with production durability, run once
// clean and once while its only worker process is SIGKILLed (>= 10 times, restarted each time),
// Postgres hangs once (every process SIGSTOPped) for `--hang-s` (default 180), Postgres is SIGKILLed
// once and kept down for POSTGRES_DOWN_S, and the Temporal dev server is SIGKILLed once — in
// `--rounds` rounds (default 3) with different seeds. Kills are paced by progress
// (a job finished since the previous kill), so every round reaches its planned kills whatever the
// machine's speed. Per round: per-table checksum equality with the clean run, SUCCESS rows per job
// and date, RUNNING rows left, extra wall time per kill; medians over the rounds in the JSON.
// Ports: BENCH_PG_PORT / BENCH_TEMPORAL_PORT / BENCH_TEMPORAL_UI_PORT, free ports when unset.
// The last line is one JSON object.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { runChaos, type ChaosReport } from './chaos-harness.js';
import { recordResult } from './results.js';
import { runSourceScenarios, type SourceScenarioReport } from './chaos-sources.js';
import { runWireScenarios, type WireScenarioReport } from './chaos-wire.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'postgres-down-s': { type: 'string', default: '90' },
    'hang-s': { type: 'string', default: '180' },
    seed: { type: 'string', default: '10' },
    learners: { type: 'string', default: '10000' },
    'events-per-day': { type: 'string', default: '200000' },
    // Kills inside a Kusto window (learning-roi) and inside app-db MERGEs, per scenario; 0 skips them.
    'source-kills': { type: 'string', default: '4' },
    // Faults on the wire through Toxiproxy (bench/chaos-wire.ts): the sources' blackhole length; 0 skips them.
    'wire-blackhole-s': { type: 'string', default: '180' },
  },
});
const config = loadConfig();
const POSTGRES_DOWN_S = Number(values['postgres-down-s']);
const HANG_S = Number(values['hang-s']);
const TEMPORAL_DOWN_MS = 10_000;
const ROUNDS = Math.max(1, Number(values.rounds));
const KILLS = Number(values.kills);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

interface Round extends ChaosReport {
  seed: number;
  extraMsPerWorkerKillNet: number;
  targets: Record<string, boolean>;
}

const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const seed = Number(values.seed) + r;
  console.log(`round ${r + 1}/${ROUNDS} (seed ${seed})`);
  const report = await runChaos({
    projectRoot: path.resolve(import.meta.dirname, '..'),
    from: '2026-03-01',
    to: '2026-03-08',
    concurrency: 2,
    workerKills: KILLS,
    postgresKillAfter: 5,
    postgresHangAfter: HANG_S > 0 ? 3 : 0,
    postgresHangMs: HANG_S * 1000,
    postgresDownMs: POSTGRES_DOWN_S * 1000,
    temporalKillAfter: 8,
    temporalDownMs: TEMPORAL_DOWN_MS,
    killEveryMs: [300, 1500],
    scale: { tenants: 10, learners: Number(values.learners), eventsPerDay: Number(values['events-per-day']) },
    ports: {
      pg: config.bench.pgPort,
      temporal: config.bench.temporalPort,
      temporalUi: config.bench.temporalUiPort,
    },
    seed,
    log: (line) => console.log(`  ${line}`),
  });
  // The Postgres and Temporal outages are waited out on purpose: their downtime is not recovery time.
  const outageMs =
    report.postgresKills * POSTGRES_DOWN_S * 1000 +
    report.postgresHangs * HANG_S * 1000 +
    report.temporalKills * TEMPORAL_DOWN_MS;
  const extraPerWorkerKill = Math.round((report.chaosMs - report.cleanMs - outageMs) / Math.max(1, report.workerKills));
  const ok = report.successRowsPerJobDate;
  const targets = {
    checksumsEqual: report.checksumsEqual,
    exactlyOneSuccess: ok.min === 1 && ok.max === 1 && ok.pairs === ok.expectedPairs,
    noRunningRows: report.runningRowsLeft === 0,
    extraPerWorkerKillWithin30s: extraPerWorkerKill <= 30_000,
    noFailedDate: report.failedDates.length === 0,
    plannedKillsReached:
      report.workerKills >= KILLS &&
      report.postgresKills === (KILLS >= 5 ? 1 : 0) &&
      report.postgresHangs === (HANG_S > 0 && KILLS >= 3 ? 1 : 0) &&
      report.temporalKills === (KILLS >= 8 ? 1 : 0),
  };
  console.log(`  clean ${s(report.cleanMs)}, chaos ${s(report.chaosMs)}: ${report.workerKills} worker kills, `);
  console.log(
    `  ${report.postgresKills} Postgres kill (down ${POSTGRES_DOWN_S} s), ${report.temporalKills} Temporal kill`,
  );
  console.log(`  extra per worker kill (outages' downtime taken out): ${s(extraPerWorkerKill)}`);
  for (const [t, c] of Object.entries(report.tables)) console.log(`    ${c.equal ? '=' : '≠'} ${t}  ${c.chaos}`);
  console.log(
    `  SUCCESS rows per job and date: ${ok.min}..${ok.max} over ${ok.pairs}/${ok.expectedPairs} pairs; ` +
      `RUNNING left: ${report.runningRowsLeft}; failed dates: ${report.failedDates.join(', ') || 'none'}`,
  );
  console.log(`  targets: ${JSON.stringify(targets)}`);
  rounds.push({ ...report, seed, extraMsPerWorkerKillNet: extraPerWorkerKill, targets });
}

const allTargets: Record<string, boolean> = Object.fromEntries(
  Object.keys(rounds[0]!.targets).map((k) => [k, rounds.every((r) => r.targets[k])]),
);
const SOURCE_KILLS = Number(values['source-kills']);
let sourceScenarios: SourceScenarioReport[] = [];
if (SOURCE_KILLS > 0) {
  console.log(`kills inside source stages (${SOURCE_KILLS} per scenario): Kusto windows, app-db MERGEs`);
  sourceScenarios = await runSourceScenarios({
    projectRoot: path.resolve(import.meta.dirname, '..'),
    kills: SOURCE_KILLS,
    seed: Number(values.seed),
    log: (line) => console.log(`  ${line}`),
  });
  for (const r of sourceScenarios) {
    const unequal = Object.entries(r.compared)
      .filter(([, eq]) => !eq)
      .map(([k]) => k);
    const compared = Object.keys(r.compared).length;
    const outputs = `${compared} outputs compared, ${unequal.length ? `UNEQUAL: ${unequal}` : 'all equal'}`;
    console.log(
      `  ${r.scenario}: clean ${s(r.cleanMs)}, chaos ${s(r.chaosMs)}, ` +
        `${r.kills}/${r.plannedKills} kills; ${outputs}; ` +
        `SUCCESS per job ${r.successPerJob.min}..${r.successPerJob.max} over ${r.successPerJob.jobs} jobs, ` +
        `RUNNING left ${r.runningRowsLeft}${r.runFailed ? `; run failed: ${r.runFailed}` : ''}`,
    );
  }
  allTargets.sourceOutputsEqual = sourceScenarios.every((r) => r.equal);
  allTargets.sourceExactlyOneSuccess = sourceScenarios.every(
    (r) => r.successPerJob.min === 1 && r.successPerJob.max === 1 && !r.runFailed,
  );
  allTargets.sourceNoRunningRows = sourceScenarios.every((r) => r.runningRowsLeft === 0);
  allTargets.sourceKillsReached = sourceScenarios.every((r) => r.kills >= 1);
}
const WIRE_BLACKHOLE_S = Number(values['wire-blackhole-s']);
let wireScenarios: WireScenarioReport[] | { skipped: string } = { skipped: '--wire-blackhole-s 0' };
if (WIRE_BLACKHOLE_S > 0) {
  console.log(`faults on the wire (Toxiproxy): latency, bandwidth, ${WIRE_BLACKHOLE_S} s blackholes, resets`);
  wireScenarios = await runWireScenarios({
    projectRoot: path.resolve(import.meta.dirname, '..'),
    blackholeS: WIRE_BLACKHOLE_S,
    log: (line) => console.log(`  ${line}`),
  });
  if ('skipped' in wireScenarios) console.log(`  skipped: ${wireScenarios.skipped}`);
  const wire = 'skipped' in wireScenarios ? [] : wireScenarios;
  for (const r of wire) {
    const unequal = Object.entries(r.compared)
      .filter(([, eq]) => !eq)
      .map(([k]) => k);
    const verdict = unequal.length ? `UNEQUAL: ${unequal}` : 'all equal';
    const outputs = `${Object.keys(r.compared).length} outputs compared, ${verdict}`;
    const abandoned = r.firstAbandonMs === null ? 'never' : s(r.firstAbandonMs);
    const longest = r.maxFailedAttemptMs === null ? '?' : s(r.maxFailedAttemptMs);
    console.log(
      `  ${r.scenario}: clean ${s(r.cleanMs)}, under faults ${s(r.wireMs)}; blackhole ${s(r.blackholeMs)}: ` +
        `first call abandoned after ${abandoned}, ${r.failedAttempts} attempts failed, the longest ${longest}; ` +
        `${outputs}; SUCCESS per job ${r.successPerJob.min}..${r.successPerJob.max}, ` +
        `RUNNING left ${r.runningRowsLeft}` +
        (r.runFailed ? `; run failed: ${r.runFailed}` : ''),
    );
  }
  allTargets.wireRan = wire.length > 0;
  allTargets.wireOutputsEqual = wire.length > 0 && wire.every((r) => r.equal);
  allTargets.wireExactlyOneSuccess = wire.every(
    (r) => r.successPerJob.min === 1 && r.successPerJob.max === 1 && !r.runFailed,
  );
  allTargets.wireNoRunningRows = wire.every((r) => r.runningRowsLeft === 0);
  // No attempt hangs through the blackhole: the first is abandoned, and every failed one ends, within
  // the longest heartbeat timeout (30 s) — while its heartbeat timer would have kept it alive for good.
  allTargets.wireNoAttemptStuckPast30s = wire.every(
    (r) => r.firstAbandonMs !== null && r.firstAbandonMs <= 30_000 && (r.maxFailedAttemptMs ?? 0) <= 30_000,
  );
}
console.log(`targets over ${ROUNDS} rounds: ${JSON.stringify(allTargets)}`);
const chaosLine = {
  bench: 'chaos',
  durability: 'production (fsync, synchronous_commit, full_page_writes on)',
  rounds: rounds.map(({ oddRows: _odd, tables: _tables, ...r }) => r),
  postgresDownMs: POSTGRES_DOWN_S * 1000,
  postgresHangMs: HANG_S * 1000,
  medians: {
    cleanMs: median(rounds.map((r) => r.cleanMs)),
    chaosMs: median(rounds.map((r) => r.chaosMs)),
    workerKills: median(rounds.map((r) => r.workerKills)),
    extraMsPerWorkerKillNet: median(rounds.map((r) => r.extraMsPerWorkerKillNet)),
  },
  sourceScenarios,
  wireScenarios,
  targets: allTargets,
};
console.log(JSON.stringify(chaosLine));
recordResult(chaosLine);
process.exit(Object.values(allTargets).every(Boolean) ? 0 : 1);
