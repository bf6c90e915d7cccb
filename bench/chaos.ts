// `npm run bench:chaos`: an 8-date warehouse-nightly backfill at the demo's scale (10,000 learners,
// 200,000 session events a day), concurrency 2, run once clean and
// once while its only worker process is SIGKILLed at random (>= 10 times, restarted each time),
// Postgres is SIGKILLed once and kept down for POSTGRES_DOWN_S (past the 75 s that used to fail a
// date), and the Temporal dev server is SIGKILLed once. Reports per-table checksum equality with the
// clean run, SUCCESS rows per job and date, RUNNING rows left, and the extra wall time per kill.
// One clean and one chaos run (a chaos run takes minutes; its cost is the kills, not noise).
// Ports: BENCH_PG_PORT / BENCH_TEMPORAL_PORT / BENCH_TEMPORAL_UI_PORT, free ports when unset.
// The last line is one JSON object.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { runChaos } from './chaos-harness.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '10' },
    'postgres-down-s': { type: 'string', default: '90' },
    seed: { type: 'string', default: '10' },
  },
});
const config = loadConfig();
const POSTGRES_DOWN_S = Number(values['postgres-down-s']);
const TEMPORAL_DOWN_MS = 10_000;
const report = await runChaos({
  projectRoot: path.resolve(import.meta.dirname, '..'),
  from: '2026-03-01',
  to: '2026-03-08',
  concurrency: 2,
  workerKills: Number(values.kills),
  postgresKillAfter: 5,
  postgresDownMs: POSTGRES_DOWN_S * 1000,
  temporalKillAfter: 8,
  temporalDownMs: TEMPORAL_DOWN_MS,
  killEveryMs: [3000, 7000],
  scale: { tenants: 10, learners: 10_000, eventsPerDay: 200_000 },
  ports: {
    pg: config.bench.pgPort,
    temporal: config.bench.temporalPort,
    temporalUi: config.bench.temporalUiPort,
  },
  seed: Number(values.seed),
  log: (line) => console.log(`  ${line}`),
});

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
// The Postgres and Temporal outages are waited out on purpose: their downtime is not recovery time.
const outageMs = report.postgresKills * POSTGRES_DOWN_S * 1000 + report.temporalKills * TEMPORAL_DOWN_MS;
const extraPerWorkerKill = Math.round((report.chaosMs - report.cleanMs - outageMs) / Math.max(1, report.workerKills));
const targets = {
  checksumsEqual: report.checksumsEqual,
  exactlyOneSuccess:
    report.successRowsPerJobDate.min === 1 &&
    report.successRowsPerJobDate.max === 1 &&
    report.successRowsPerJobDate.pairs === report.successRowsPerJobDate.expectedPairs,
  noRunningRows: report.runningRowsLeft === 0,
  extraPerWorkerKillWithin30s: extraPerWorkerKill <= 30_000,
  noFailedDate: report.failedDates.length === 0,
  workerKillsAtLeast10: report.workerKills >= 10,
};
const ok = report.successRowsPerJobDate;
console.log();
console.log(`clean backfill:  ${s(report.cleanMs)} for ${report.dates} dates`);
console.log(
  `chaos backfill:  ${s(report.chaosMs)} with ${report.workerKills} worker kills, ` +
    `${report.postgresKills} Postgres kill (down ${POSTGRES_DOWN_S} s), ${report.temporalKills} Temporal kill`,
);
console.log(`extra per worker kill (the deliberate outages' downtime taken out): ${s(extraPerWorkerKill)}`);
console.log(`extra per kill, all kills, outage included: ${s(report.extraMsPerKill)}`);
for (const [t, c] of Object.entries(report.tables)) console.log(`  ${c.equal ? '=' : '≠'} ${t}  ${c.chaos}`);
console.log(
  `SUCCESS rows per job and date: ${ok.min}..${ok.max} over ${ok.pairs}/${ok.expectedPairs} pairs; ` +
    `RUNNING left: ${report.runningRowsLeft}; failed dates: ${report.failedDates.join(', ') || 'none'}`,
);
console.log(`FAILED attempt rows by message: ${JSON.stringify(report.failedRowMessages)}`);
console.log(`targets: ${JSON.stringify(targets)}`);
console.log(
  JSON.stringify({
    bench: 'chaos',
    ...report,
    postgresDownMs: POSTGRES_DOWN_S * 1000,
    extraMsPerWorkerKillNet: extraPerWorkerKill,
    targets,
  }),
);
process.exit(Object.values(targets).every(Boolean) ? 0 : 1);
