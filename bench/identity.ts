// Benchmark: identity resolution at 1,000,000 learners, and the whole learning-roi pipeline at
// 10× the sample size.
//
// 1. Identity: the sample population, scaled so that its exam e-mails make ~1,000,000 learners,
//    is COPYed straight into staging (exams of both schemas, verified e-mails, signups), then the
//    identity-resolve stage runs in one transaction. Baseline in the same run: the same stage at 1×
//    (~84,000 learners). Figures: learners/s, claim rows/s, and the 1M/1× throughput ratio.
// 2. Pipeline: the learning-roi DAG (extracts in parallel, then identities, datasets, files, gates)
//    run by calling its activities in DAG order in this process, in sample mode: the real
//    azure-kusto-data client against the in-process sample Kusto server, COPY into staging, SQL
//    stages, CSV/JSON export. Baseline: 1× in the same run. No Temporal: its overhead per node is
//    milliseconds and is not what this measures.
// The last line is one JSON object with every figure.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { from as copyFrom } from 'pg-copy-streams';
import { createLearningRoiAggregateActivities } from '../src/pipelines/learning-roi/datasets.js';
import type { ActivityDeps } from '../src/runtime/deps.js';
import { copyText, createKustoExtractActivities } from '../src/pipelines/learning-roi/extract.js';
import { KUSTO_SOURCES, type KustoSourceSpec } from '../src/pipelines/learning-roi/sources.js';
import { createLearnerIdentityActivities, resolveLearners } from '../src/pipelines/learning-roi/identity.js';
import { createLearningRoiExportActivities } from '../src/pipelines/learning-roi/export.js';
import { createLearningRoiQualityActivities } from '../src/pipelines/learning-roi/gates.js';
import { loadConfig } from '../src/config.js';
import { createPool, withTransaction, type Pool } from '../src/connectors/postgres.js';
import { createLogger } from '../src/logging.js';
import { learningRoi } from '../src/pipelines/learning-roi/definition.js';
import type { NodeInput, NodeResult } from '../src/pipelines/types.js';
import { buildPerson, personRows } from '../src/pipelines/learning-roi/sample/data.js';
import { sampleKustoServer } from '../src/pipelines/learning-roi/sample/source.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort } from '../src/stack/temporal-dev-server.js';
import { migrate } from '../src/warehouse/migrate.js';

const root = path.resolve(import.meta.dirname, '..');
const PEOPLE_AT_1X = 82_000; // kusto-sample-data.ts PEOPLE_PER_SCALE
const TARGET_LEARNERS = 1_000_000;
const DATE = '2026-11-22';
const secs = (ms: number) => Math.round(ms) / 1000;
const perSec = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

type Rows = ReturnType<typeof personRows>;
const STAGED: Array<[keyof Rows, KustoSourceSpec]> = [
  ['ace', KUSTO_SOURCES.ace_exam_results],
  ['pearson', KUSTO_SOURCES.pearson_exam_results],
  ['emails', KUSTO_SOURCES.user_emails],
  ['signups', KUSTO_SOURCES.user_signups],
];

/** One pass over the population, COPYing each person's rows into the four staging tables at once. */
async function stagePopulation(pool: Pool, people: number): Promise<Record<keyof Rows, number>> {
  const sinks = await Promise.all(
    STAGED.map(async ([, spec]) => {
      const client = await pool.connect();
      const cols = [...(spec.windows.kind === 'hash' ? ['run_key', 'partition_key'] : []), ...spec.columns.map((c) => c.column)];
      const stream = client.query(copyFrom(`COPY ${spec.stagingTable} (${cols.join(', ')}) FROM STDIN`));
      return { client, stream, done: finished(stream) };
    }),
  );
  try {
    const CHUNK = 2000;
    for (let p = 1; p <= people; p += CHUNK) {
      const texts = STAGED.map(() => '');
      for (let q = p; q < Math.min(p + CHUNK, people + 1); q++) {
        const rows = personRows(buildPerson(q));
        STAGED.forEach(([key, spec], i) => {
          for (const r of rows[key]) {
            const cells = spec.columns.map((c, k) => copyText(r[k], c));
            if (cells.some((x) => typeof x !== 'string')) continue; // the generator's deliberately bad rows
            texts[i] += `${spec.windows.kind === 'hash' ? 'bench\tp0of1\t' : ''}${cells.join('\t')}\n`;
          }
        });
      }
      await Promise.all(sinks.map((s, i) => (s.stream.write(texts[i]!) ? undefined : once(s.stream, 'drain'))));
    }
    for (const s of sinks) s.stream.end();
    await Promise.all(sinks.map((s) => s.done));
    return Object.fromEntries(STAGED.map(([key], i) => [key, Number(sinks[i]!.stream.rowCount ?? 0)])) as Record<keyof Rows, number>;
  } finally {
    for (const s of sinks) s.client.release();
  }
}

interface IdentityFigures {
  people: number;
  stagedRows: number;
  stageSeconds: number;
  learners: number;
  resolved: number;
  resolutionRate: number;
  conflicts: number;
  claimRows: number;
  resolveSeconds: number;
  learnersPerSecond: number;
  claimRowsPerSecond: number;
}

async function identityRun(pool: Pool, people: number): Promise<IdentityFigures> {
  const t0 = Date.now();
  const { ace, pearson, emails, signups } = await stagePopulation(pool, people);
  await pool.query(`INSERT INTO etl_kusto_runs (run_key, source, job_name, plan, finished_at) VALUES ('bench', 'user_emails', 'bench', '{}', now()), ('bench', 'user_signups', 'bench', '{}', now())`);
  for (const t of ['kusto_ace_exam_results', 'kusto_pearson_exam_results', 'kusto_user_emails', 'kusto_user_signups']) await pool.query(`ANALYZE staging.${t}`);
  const staged = Date.now();
  const c = await withTransaction(pool, (tx) => resolveLearners(tx, 'bench_identity', DATE));
  const resolveMs = Date.now() - staged;
  const claims = ace + emails + signups; // rows that can carry an e-mail → id claim
  return {
    people,
    stagedRows: ace + pearson + emails + signups,
    stageSeconds: secs(staged - t0),
    learners: c.learners,
    resolved: c.resolved,
    resolutionRate: Number((c.resolved / c.learners).toFixed(4)),
    conflicts: c.conflicts,
    claimRows: claims,
    resolveSeconds: secs(resolveMs),
    learnersPerSecond: perSec(c.learners, resolveMs),
    claimRowsPerSecond: perSec(claims, resolveMs),
  };
}

interface PipelineFigures {
  scale: number;
  sampleIndexSeconds: number;
  totalSeconds: number;
  rowsMoved: number;
  rowsPerSecond: number;
  stages: Record<string, { seconds: number; rows: number; rowsPerSecond: number }>;
  datasets: Record<string, number>;
  gates: string;
}

async function pipelineRun(url: string, scale: number): Promise<PipelineFigures> {
  const pool = createPool(url, { max: 12 });
  await migrate(pool);
  const outputDir = path.join(root, '.data', `bench-identity-out-${process.pid}-${scale}`);
  const config = loadConfig({ LEARNING_ROI_SAMPLE_SCALE: String(scale), LEARNSYNC_OUTPUT_DIR: outputDir, LOG_LEVEL: 'warn' });
  const deps: ActivityDeps = { warehouse: pool, oltp: pool, outputDir, logger: createLogger({ level: 'warn' }), config };
  const acts: Record<string, (i: NodeInput) => Promise<NodeResult>> = {
    ...createKustoExtractActivities(deps),
    ...createLearnerIdentityActivities(deps),
    ...createLearningRoiAggregateActivities(deps),
    ...createLearningRoiExportActivities(deps),
    ...createLearningRoiQualityActivities(deps),
  };
  const ti = Date.now();
  await sampleKustoServer(scale); // the sample's index, built once per process
  const indexMs = Date.now() - ti;

  const stages: PipelineFigures['stages'] = {};
  const results = new Map<string, NodeResult>();
  const started = new Map<string, Promise<NodeResult>>();
  const run = (id: string): Promise<NodeResult> => {
    let p = started.get(id);
    if (!p) {
      const node = learningRoi.nodes.find((n) => n.id === id)!;
      p = (async () => {
        await Promise.all((node.dependsOn ?? []).map(run));
        const s = Date.now();
        const r = await acts[node.activity]!({ pipeline: learningRoi.name, nodeId: node.id, targetDate: DATE, force: true, params: node.input ?? {} });
        const ms = Date.now() - s;
        stages[node.id] = { seconds: secs(ms), rows: r.rows, rowsPerSecond: perSec(r.rows, ms) };
        results.set(id, r);
        return r;
      })();
      started.set(id, p);
    }
    return p;
  };
  const t0 = Date.now();
  await Promise.all(learningRoi.nodes.map((n) => run(n.id)));
  const totalMs = Date.now() - t0;
  const rowsMoved = [...results.values()].reduce((s, r) => s + r.rows, 0);
  const datasets = Object.fromEntries(
    (await pool.query<{ dataset: string; rows: string }>(`SELECT DISTINCT ON (dataset) dataset, rows FROM learning_roi.dataset_syncs WHERE status = 'success' ORDER BY dataset, id DESC`)).rows.map((r) => [
      r.dataset,
      Number(r.rows),
    ]),
  );
  const gates = results.get('roi_quality_gates')!.detail;
  await pool.end();
  await rm(outputDir, { recursive: true, force: true });
  return {
    scale,
    sampleIndexSeconds: secs(indexMs),
    totalSeconds: secs(totalMs),
    rowsMoved,
    rowsPerSecond: perSec(rowsMoved, totalMs),
    stages,
    datasets,
    gates: `${gates?.passed} passed, ${gates?.warned} warned, ${gates?.failed} failed`,
  };
}

async function main() {
  const port = await freePort();
  const dataDir = path.join(root, '.data', `bench-identity-${process.pid}`);
  const dbs = ['bench_identity_1x', 'bench_identity_1m', 'bench_pipeline_1x', 'bench_pipeline_10x'];
  const pg = await startEmbeddedPostgres({ dataDir, port, databases: dbs, ephemeral: true });
  try {
    console.log('identity resolution — baseline at 1× the sample');
    const p1 = createPool(pg.url('bench_identity_1x'));
    await migrate(p1);
    const id1 = await identityRun(p1, PEOPLE_AT_1X);
    await p1.end();
    console.log(`  ${fmt(id1.learners)} learners (${fmt(id1.claimRows)} claim rows) resolved in ${id1.resolveSeconds} s: ${fmt(id1.learnersPerSecond)} learners/s, rate ${id1.resolutionRate}`);

    const people = Math.ceil((PEOPLE_AT_1X * TARGET_LEARNERS) / id1.learners);
    console.log(`identity resolution — ${fmt(people)} people for ~${fmt(TARGET_LEARNERS)} learners`);
    const pm = createPool(pg.url('bench_identity_1m'));
    await migrate(pm);
    const idM = await identityRun(pm, people);
    await pm.end();
    console.log(`  staged ${fmt(idM.stagedRows)} rows in ${idM.stageSeconds} s`);
    console.log(
      `  ${fmt(idM.learners)} learners (${fmt(idM.claimRows)} claim rows, ${fmt(idM.conflicts)} conflicts) resolved in ${idM.resolveSeconds} s: ` +
        `${fmt(idM.learnersPerSecond)} learners/s, ${fmt(idM.claimRowsPerSecond)} claim rows/s, rate ${idM.resolutionRate}`,
    );
    const idRatio = idM.learnersPerSecond / id1.learnersPerSecond;
    console.log(`  throughput at 1M vs 1×: ×${idRatio.toFixed(2)} (time ×${(idM.resolveSeconds / id1.resolveSeconds).toFixed(1)} for ×${(idM.learners / id1.learners).toFixed(1)} learners)`);

    console.log('whole pipeline — baseline at 1× the sample');
    const pl1 = await pipelineRun(pg.url('bench_pipeline_1x'), 1);
    console.log(`  ${fmt(pl1.rowsMoved)} rows through the DAG in ${pl1.totalSeconds} s: ${fmt(pl1.rowsPerSecond)} rows/s (gates: ${pl1.gates})`);
    console.log('whole pipeline — 10× the sample');
    const pl10 = await pipelineRun(pg.url('bench_pipeline_10x'), 10);
    console.log(`  ${fmt(pl10.rowsMoved)} rows through the DAG in ${pl10.totalSeconds} s: ${fmt(pl10.rowsPerSecond)} rows/s (gates: ${pl10.gates})`);
    console.log('');
    console.log(`${'stage'.padEnd(28)} ${'1× s'.padStart(8)} ${'10× s'.padStart(8)} ${'10× rows'.padStart(11)} ${'10× rows/s'.padStart(11)}`);
    for (const [id, s] of Object.entries(pl10.stages)) {
      console.log(`${id.padEnd(28)} ${pl1.stages[id]!.seconds.toFixed(1).padStart(8)} ${s.seconds.toFixed(1).padStart(8)} ${fmt(s.rows).padStart(11)} ${fmt(s.rowsPerSecond).padStart(11)}`);
    }
    const plRatio = pl10.rowsPerSecond / pl1.rowsPerSecond;
    console.log(`pipeline throughput at 10× vs 1×: ×${plRatio.toFixed(2)} (time ×${(pl10.totalSeconds / pl1.totalSeconds).toFixed(1)} for ×${(pl10.rowsMoved / pl1.rowsMoved).toFixed(1)} rows)`);
    console.log(
      JSON.stringify({
        benchmark: 'identity',
        identity: { baseline1x: id1, oneMillion: idM, throughputRatio: Number(idRatio.toFixed(3)) },
        pipeline: { baseline1x: pl1, tenX: pl10, throughputRatio: Number(plRatio.toFixed(3)) },
      }),
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
