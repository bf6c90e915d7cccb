// Benchmark: the app-db → BigQuery sync against the plainest way to get the same rows in, on the
// local bqemulator (provisioned by `npm run setup`).
//   initial: the sync of chat_history (BENCH_CHAT_ROWS rows, 1M by default) — read from SQLite,
//            converted, streamed as NDJSON into one load job into staging, appended, staging
//            dropped, cursor committed — vs ONE raw load job of the same NDJSON rows from a file
//            written beforehand into a table created beforehand. Same rows, same emulator, fresh
//            dataset each side and round, order alternated, the first round discarded as warm-up
//            (bench/fair.ts compare: ≥ 5 rounds, medians and spreads, the ratio from one run).
//   incremental: 1% new chat rows after the initial sync: time and rows read against the initial.
//   memory: peak RSS of a child process syncing chat_history at N/10 and at N rows.
// Ends with one JSON line (bench/fair.ts finish), also appended to .data/bench/results.jsonl.
import { spawn } from 'node:child_process';
import { createWriteStream, createReadStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { openSqlite } from '../src/connectors/sqlite-binding.js';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { openSqliteSource } from '../src/connectors/app-db/sqlite.js';
import {
  createBigQueryClient,
  loadNdjson,
  qualifiedName,
  runQuery,
  type BigQueryTarget,
} from '../src/connectors/bigquery/client.js';
import { createPool, type Pool } from '../src/connectors/postgres.js';
import { createAppDbActivities } from '../src/pipelines/app-db/activities.js';
import type { AppDbDeps } from '../src/runtime/deps.js';
import { generateSampleAppDb } from '../src/pipelines/app-db/sample/generate.js';
import { sourceColumnsToTarget, toBigQueryValue } from '../src/pipelines/app-db/schema-mapping.js';
import { startBigQueryEmulator } from '../src/stack/bigquery-emulator.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { compare, finish, round3, spread as spreadOf } from './fair.js';
import { migrate } from '../src/warehouse/migrate.js';

const root = path.resolve(import.meta.dirname, '..');
const PROJECT = 'learnsync-bench';
const logger = pino({ level: 'silent' });

const median = (xs: number[]) => spreadOf(xs).median;
const spread = (xs: number[]) => ({ min: round3(Math.min(...xs)), max: round3(Math.max(...xs)) });

function appDbDeps(endpoint: string, dataset: string, sqlite: string): { deps: AppDbDeps; target: BigQueryTarget } {
  const target: BigQueryTarget = {
    bq: createBigQueryClient({ projectId: PROJECT, apiEndpoint: endpoint }),
    projectId: PROJECT,
    datasetId: dataset,
  };
  return {
    target,
    deps: { target: async () => target, openSource: async () => openSqliteSource(sqlite), close: async () => {} },
  };
}

async function syncChat(warehouse: Pool, endpoint: string, dataset: string, sqlite: string) {
  const config = loadConfig({
    APP_DB_SQLITE_PATH: sqlite,
    APP_DB_HASH_KEY: 'bench-hash-key-0123456789',
    BIGQUERY_PROJECT: PROJECT,
    BIGQUERY_API_ENDPOINT: endpoint,
    BIGQUERY_DATASET: dataset,
  });
  const { deps } = appDbDeps(endpoint, dataset, sqlite);
  const acts = createAppDbActivities({ warehouse, logger, config, appDb: deps });
  const started = performance.now();
  const r = await acts.syncAppDbTable({
    pipeline: 'bench',
    nodeId: `bench_${dataset}`,
    force: false,
    params: { table: 'chat_history', mode: 'incremental' },
  });
  return { seconds: (performance.now() - started) / 1000, rows: r.rows, appended: r.inserted ?? 0 };
}

/** Child mode: one initial sync, then print the process's peak RSS. */
async function memoryChild(): Promise<void> {
  const [, , , sqlite, endpoint, pgUrl, dataset] = process.argv;
  const warehouse = createPool(pgUrl!, { max: 3 });
  const r = await syncChat(warehouse, endpoint!, dataset!, sqlite!);
  await warehouse.end();
  console.log(JSON.stringify({ rows: r.rows, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

async function childPeak(
  sqlite: string,
  endpoint: string,
  pgUrl: string,
  dataset: string,
): Promise<{ rows: number; maxRssMb: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'bench/bigquery.ts'), '--memory-child', sqlite, endpoint, pgUrl, dataset],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`memory child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { rows: number; maxRssMb: number };
}

/** The raw side's input: exactly the NDJSON lines the sync sends, written once, outside the timing. */
async function writeNdjsonFile(sqlite: string, file: string): Promise<Array<{ name: string; type: string }>> {
  const source = openSqliteSource(sqlite);
  const columns = sourceColumnsToTarget('sqlite', await source.columns('chat_history'));
  const out = createWriteStream(file);
  for await (const row of source.rows('chat_history', { columns: columns.map((c) => c.name), orderBy: 'id' })) {
    const o: Record<string, unknown> = {};
    for (const c of columns) o[c.name] = toBigQueryValue(row[c.name], c.type);
    if (!out.write(JSON.stringify(o) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await source.close();
  return columns;
}

async function main(): Promise<void> {
  const N = Number(process.env.BENCH_CHAT_ROWS ?? 1_000_000);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'learnsync-bench-bq-'));
  // BENCH_PG_PORT and BENCH_BIGQUERY_REST_PORT / BENCH_BIGQUERY_GRPC_PORT when set, else free ports.
  const ports = loadConfig().bench;
  const pgPort = await configuredOrFreePort(ports.pgPort);
  // Under .data like the other benches: initdb runs as its own user and cannot enter a 0700 temp folder.
  const pgDir = path.join(root, '.data', `bench-bigquery-${process.pid}`);
  const [pg, emulator] = await Promise.all([
    startEmbeddedPostgres({ dataDir: pgDir, port: pgPort, databases: ['bench_bq'], ephemeral: true }),
    startBigQueryEmulator({
      projectRoot: root,
      projectId: PROJECT,
      restPort: await configuredOrFreePort(ports.bigqueryRestPort),
      grpcPort: await configuredOrFreePort(ports.bigqueryGrpcPort),
    }),
  ]);
  const warehouse = createPool(pg.url('bench_bq'), { max: 4 });
  try {
    await migrate(warehouse);
    const sqlite = path.join(dir, 'app.sqlite');
    const small = path.join(dir, 'app-small.sqlite');
    let t = performance.now();
    generateSampleAppDb(sqlite, { chatRows: N });
    generateSampleAppDb(small, { chatRows: Math.round(N / 10) });
    console.log(
      `generated the sample app databases (${N.toLocaleString()} and ${Math.round(N / 10).toLocaleString()} ` +
        `chat rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const file = path.join(dir, 'chat_history.ndjson');
    t = performance.now();
    const schema = await writeNdjsonFile(sqlite, file);
    console.log(`wrote the raw side's NDJSON file in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Same set-up for both sides, untimed: a fresh dataset per side and round. The raw side's table
    // is created beforehand too (its load job is the whole measured work); the pipeline creates its
    // table, reads, converts, loads and records its cursor inside the timing.
    let lastPipelineDataset = '';
    const runs = { pipeline: 0, raw: 0 };
    let dataset = '';
    const result = await compare(
      [
        {
          name: 'pipeline',
          setup: async () => {
            dataset = `bench_pipeline_${runs.pipeline++}`;
            await appDbDeps(emulator.apiEndpoint, dataset, sqlite).target.bq.createDataset(dataset);
          },
          run: async () => {
            const m = await syncChat(warehouse, emulator.apiEndpoint, dataset, sqlite);
            if (m.appended !== N) throw new Error(`pipeline appended ${m.appended} of ${N}`);
            lastPipelineDataset = dataset;
            return m.appended;
          },
        },
        {
          name: 'raw load job',
          setup: async () => {
            dataset = `bench_raw_${runs.raw++}`;
            const { target } = appDbDeps(emulator.apiEndpoint, dataset, sqlite);
            await target.bq.createDataset(dataset);
            await runQuery(
              target,
              `CREATE TABLE ${qualifiedName(target, 'chat_history')} ` +
                `(${schema.map((c) => `\`${c.name}\` ${c.type}`).join(', ')})`,
            );
          },
          run: async () => {
            const { target } = appDbDeps(emulator.apiEndpoint, dataset, sqlite);
            const load = await loadNdjson(target, 'chat_history', createReadStream(file), {
              schema: schema.map((c) => ({ name: c.name, type: c.type })),
              writeDisposition: 'WRITE_APPEND',
            });
            if (load.outputRows !== N) throw new Error(`raw load loaded ${load.outputRows} of ${N}`);
            return load.outputRows;
          },
        },
      ],
      { rounds: ROUNDS },
    );
    const pipeline = result.sides.pipeline!.ms.map((ms) => ms / 1000);
    const raw = result.sides['raw load job']!.ms.map((ms) => ms / 1000);

    // Memory before the incremental rounds add rows: N/10 vs N exactly.
    const memSmall = await childPeak(small, emulator.apiEndpoint, pg.url('bench_bq'), 'bench_mem_small');
    const memLarge = await childPeak(sqlite, emulator.apiEndpoint, pg.url('bench_bq'), 'bench_mem_large');

    // Incremental: 1% new rows each round, synced into the last pipeline dataset.
    const changed = Math.max(1, Math.round(N / 100));
    const incremental: number[] = [];
    const incrementalRead: number[] = [];
    const app = openSqlite(sqlite);
    const insert = app.prepare(
      `INSERT INTO chat_history (id, user_id, question_id, role, content, response_type, created_at)
       VALUES (?, 1, 1, 'user', ?, 'text', '2026-01-01 00:00:00')`,
    );
    let nextId = N + 1;
    for (let r = 0; r <= ROUNDS; r++) {
      app.transaction(() => {
        for (let i = 0; i < changed; i++, nextId++) insert.run(nextId, `incremental message ${nextId}`);
      })();
      const m = await syncChat(warehouse, emulator.apiEndpoint, lastPipelineDataset, sqlite);
      if (m.appended !== changed) throw new Error(`incremental appended ${m.appended} of ${changed}`);
      if (r > 0) {
        incremental.push(m.seconds);
        incrementalRead.push(m.rows);
      }
    }
    app.close();

    const p = median(pipeline);
    const w = median(raw);
    const inc = median(incremental);
    console.log('');
    console.log(
      `initial sync of ${N.toLocaleString()} chat rows: pipeline ${p.toFixed(2)} s ` +
        `(${spread(pipeline).min.toFixed(2)}–${spread(pipeline).max.toFixed(2)}), raw load job ${w.toFixed(2)} s ` +
        `(${spread(raw).min.toFixed(2)}–${spread(raw).max.toFixed(2)}): pipeline/raw ×${(p / w).toFixed(2)}`,
    );
    console.log(
      `incremental with 1% new rows: ${inc.toFixed(2)} s = ${((inc / p) * 100).toFixed(1)}% of the initial sync ` +
        `(target ≤ 5%), ${median(incrementalRead).toLocaleString()} rows read = ` +
        `${((median(incrementalRead) / N) * 100).toFixed(1)}% (target ≤ 2%)`,
    );
    console.log(
      `peak RSS of a syncing process: ${memSmall.maxRssMb} MB at ${memSmall.rows.toLocaleString()} rows, ` +
        `${memLarge.maxRssMb} MB at ${memLarge.rows.toLocaleString()} rows: ` +
        `×${(memLarge.maxRssMb / memSmall.maxRssMb).toFixed(2)} (target ≤ 1.2)`,
    );
    const ratio = round3(p / w);
    finish(
      'bigquery',
      {
        date: new Date().toISOString(),
        emulator: 'bqemulator 1.4.0',
        chatRows: N,
        rounds: result.rounds,
        warmup: result.warmup,
        initialPipelineSeconds: { median: round3(p), ...spread(pipeline) },
        initialRawLoadSeconds: { median: round3(w), ...spread(raw) },
        pipelineToRawRatio: ratio,
        pipelineRowsPerSecond: Math.round(N / p),
        incrementalSeconds: { median: round3(inc), ...spread(incremental) },
        incrementalToInitialTime: round3(inc / p),
        incrementalRowsReadShare: round3(median(incrementalRead) / N),
        peakRssMb: {
          small: memSmall.maxRssMb,
          large: memLarge.maxRssMb,
          ratio: round3(memLarge.maxRssMb / memSmall.maxRssMb),
        },
      },
      [
        { name: 'initial sync / one raw load job of the same rows', value: ratio, op: '<=', target: 1.5 },
        { name: 'incremental (1% new rows) / initial sync time', value: round3(inc / p), op: '<=', target: 0.05 },
        {
          name: 'incremental rows read / table rows',
          value: round3(median(incrementalRead) / N),
          op: '<=',
          target: 0.02,
        },
        {
          name: 'peak RSS at N / at N/10 rows',
          value: round3(memLarge.maxRssMb / memSmall.maxRssMb),
          op: '<=',
          target: 1.2,
        },
      ],
    );
  } finally {
    await warehouse.end();
    await Promise.all([emulator.stop(), pg.stop()]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  }
}

const run = process.argv[2] === '--memory-child' ? memoryChild : main;
run().catch((err: unknown) => {
  console.error(`bench:bigquery failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
