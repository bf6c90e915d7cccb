// Benchmark: learnsync side by side with a peer, dlt (pinned 1.x, in its own venv), on the same
// Postgres → Postgres move of a 1,000,000-row session_events-shaped table, in one run under the
// fair rules (bench/fair.ts: same source rows, same target shape with its primary key, alternating
// order, warm-up discarded, ≥ 5 rounds, medians and spreads, ratios from the same run).
//   learnsync:        copyBetween (binary COPY stream, ANALYZE), fresh connections inside the timing
//   dlt default:      sql_table with the SQLAlchemy backend, default loader (insert_values)
//   dlt connectorx:   sql_table with the connectorx backend (Arrow), loader chosen by
//                     BENCH_PEER_DLT_FORMAT (csv = COPY, its fastest here; default: csv)
// dlt times its own pipeline.run() (extract, normalize, load, its connections) after its imports;
// the Python start-up is not counted against it. The venv (.tools/peer-venv) is created and the
// pinned packages installed only when this bench runs, once (a marker file names the pins).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { copyBetween } from '../src/connectors/postgres.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { freePort } from '../src/stack/temporal-dev-server.js';
import { compare, finish, speedRatio } from './fair.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const VENV = path.join(root, '.tools', 'peer-venv');
const PINS = ['dlt[postgres]==1.31.0', 'sqlalchemy==2.0.44', 'connectorx==0.4.6', 'pyarrow==22.0.0'];
const MARKER = path.join(VENV, `.learnsync-pins-${Buffer.from(PINS.join(' ')).toString('base64url').slice(0, 40)}`);
const ROWS = Number(process.env.BENCH_PEER_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FAST_FORMAT = process.env.BENCH_PEER_DLT_FORMAT ?? 'csv';
const TABLE = 'session_events';
const COLUMNS = [
  'event_id',
  'session_id',
  'event_type',
  'skill_id',
  'is_correct',
  'duration_seconds',
  'occurred_at',
  'received_at',
];
const DDL = (table: string) => `CREATE TABLE ${table} (
  event_id BIGINT PRIMARY KEY, session_id UUID, event_type TEXT NOT NULL, skill_id UUID, is_correct BOOLEAN,
  duration_seconds INTEGER, occurred_at TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL)`;
const TARGETS = { vsDefault: 15, vsFastest: 3 };

/** Creates the venv and installs the pins, once; returns the pip error text when that fails. */
async function ensureVenv(): Promise<string | undefined> {
  if (existsSync(MARKER)) return undefined;
  console.log(`installing ${PINS.join(', ')} into ${path.relative(root, VENV)} (once)…`);
  try {
    if (!existsSync(path.join(VENV, 'bin', 'python'))) await run('python3', ['-m', 'venv', VENV]);
    await run(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PINS], {
      maxBuffer: 1 << 24,
    });
    await writeFile(MARKER, PINS.join('\n') + '\n');
    return undefined;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return (e.stderr || e.message).trim();
  }
}

/** A deterministic session_events-shaped table of `rows` rows. */
async function seedSource(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(DDL(TABLE));
    await c.query(`INSERT INTO ${TABLE}
      SELECT i, md5((i / 20)::text)::uuid, (ARRAY['response', 'activity_completed', 'focus_lost',
      'hint_requested'])[1 + i % 4],
             CASE WHEN i % 3 = 0 THEN NULL ELSE md5('skill' || (i % 500))::uuid END, CASE WHEN i % 4 = 0
             THEN i % 7 < 4 END,
             (i % 900)::int, timestamptz '2026-03-10' + i * interval '80 ms', timestamptz '2026-03-10' +
             i * interval '80 ms' + (i % 50) * interval '1 s'
        FROM generate_series(1, ${ROWS}) i`);
    await c.query(`ANALYZE ${TABLE}`);
  } finally {
    await c.end();
  }
}

async function learnsyncMove(sourceUrl: string, destUrl: string): Promise<number> {
  // Fresh connections inside the timing, as dlt opens its own inside pipeline.run().
  const pools = [
    new pg.Pool({ connectionString: sourceUrl, max: 1 }),
    new pg.Pool({ connectionString: destUrl, max: 1 }),
  ] as const;
  const [src, dst] = await Promise.all(pools.map((p) => p.connect()));
  try {
    await dst!.query('BEGIN');
    await dst!.query('CREATE SCHEMA IF NOT EXISTS learnsync');
    await dst!.query(`DROP TABLE IF EXISTS learnsync.${TABLE}`);
    await dst!.query(DDL(`learnsync.${TABLE}`));
    const rows = await copyBetween(
      src!,
      `SELECT ${COLUMNS.join(', ')} FROM ${TABLE}`,
      dst!,
      `learnsync.${TABLE}`,
      COLUMNS,
      { format: 'binary' },
    );
    await dst!.query('COMMIT');
    return rows;
  } finally {
    src!.release();
    dst!.release();
    await Promise.all(pools.map((p) => p.end()));
  }
}

async function dltMove(
  backend: string,
  format: string,
  env: Record<string, string>,
): Promise<{ units: number; ms: number }> {
  const { stdout } = await run(
    path.join(VENV, 'bin', 'python'),
    [path.join(import.meta.dirname, 'peer', 'dlt_move.py'), backend, TABLE, format],
    {
      env: { ...process.env, ...env, RUNTIME__LOG_LEVEL: 'WARNING' },
      maxBuffer: 1 << 24,
    },
  );
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { rows: number; seconds: number };
  return { units: out.rows, ms: out.seconds * 1000 };
}

async function main(): Promise<void> {
  const pipError = await ensureVenv();
  if (pipError) {
    console.log(`dlt could not be installed here:\n${pipError}`);
    finish('peer', { date: new Date().toISOString(), installed: false, pipError }, []);
    return;
  }
  const dataDir = path.join(root, '.data', `bench-peer-${process.pid}`);
  const pgHandle = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    databases: ['peer_src', 'peer_dst'],
    ephemeral: true,
  });
  try {
    const sourceUrl = pgHandle.url('peer_src');
    const destUrl = pgHandle.url('peer_dst');
    const t = Date.now();
    await seedSource(sourceUrl);
    console.log(
      `seeded ${ROWS.toLocaleString('en-US')} ${TABLE} rows in ${((Date.now() - t) / 1000).toFixed(1)} s; ` +
        `${ROUNDS} measured rounds after a warm-up, order rotating`,
    );
    const env = { PEER_SOURCE_URL: sourceUrl, PEER_DEST_URL: destUrl };
    const names = {
      ours: 'learnsync',
      dltDefault: 'dlt default (sqlalchemy)',
      dltFast: `dlt connectorx (${FAST_FORMAT})`,
    };
    const c = await compare(
      [
        { name: names.ours, run: () => learnsyncMove(sourceUrl, destUrl) },
        { name: names.dltDefault, run: () => dltMove('sqlalchemy', 'default', env) },
        { name: names.dltFast, run: () => dltMove('connectorx', FAST_FORMAT, env) },
      ],
      { rounds: ROUNDS },
    );
    for (const s of Object.values(c.sides)) {
      console.log(
        `  ${s.name.padEnd(28)} median ${Math.round(s.perSecond.median).toLocaleString('en-US')} rows/s ` +
          `(${(s.msStats.median / 1000).toFixed(2)} s; min ${(s.msStats.min / 1000).toFixed(2)}, max ` +
          `${(s.msStats.max / 1000).toFixed(2)})`,
      );
    }
    const vsDefault = speedRatio(c, names.ours, names.dltDefault);
    const vsFast = speedRatio(c, names.ours, names.dltFast);
    finish(
      'peer',
      {
        date: new Date().toISOString(),
        installed: true,
        pins: PINS,
        rows: ROWS,
        rounds: c.rounds,
        warmup: c.warmup,
        sides: Object.fromEntries(
          Object.values(c.sides).map((s) => [s.name, { ms: s.msStats, rowsPerSec: s.perSecond }]),
        ),
        ratios: { learnsyncVsDltDefault: vsDefault, learnsyncVsDltFastest: vsFast },
      },
      [
        {
          name: 'learnsync / dlt default (SQLAlchemy backend), medians',
          value: vsDefault,
          op: '>=',
          target: TARGETS.vsDefault,
        },
        {
          name: 'learnsync / dlt fastest (connectorx backend), medians',
          value: vsFast,
          op: '>=',
          target: TARGETS.vsFastest,
        },
      ],
    );
  } finally {
    await pgHandle.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench:peer failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
