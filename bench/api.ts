// Benchmark: what an incremental sync costs against a bootstrap, on the school API sample server.
// A table of 100,000 enrolments is bootstrapped (everything, page by page), then 1,000 and later
// 2,000 records change and the incremental sync reads only those; the nightly run reads every
// change since the last nightly. A second, 200,000-record table shows that the incremental cost
// follows the number of changes, not the size of the table. API calls are counted by the server
// and by api_hits (they must agree); wall time is measured with SLEEP_BETWEEN_CALLS = 0 and also
// projected at the real API's 0.6 s pacing. The last line is one JSON object with every figure.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { createSchoolApiActivities } from '../src/pipelines/school-api/activities.js';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/connectors/postgres.js';
import { startSchoolApiServer, type SchoolApiServer } from '../src/pipelines/school-api/sample/server.js';
import { startEmbeddedPostgres } from '../src/stack/embedded-postgres.js';
import { configuredOrFreePort } from '../src/stack/ports.js';
import { migrate } from '../src/warehouse/migrate.js';
import { createSourceClients } from '../src/stack/source-clients.js';
import { finish } from './fair.js';

const PACING_S = 0.6;
const root = path.resolve(import.meta.dirname, '..');

interface Measure {
  label: string;
  calls: number;
  recordedCalls: number;
  rows: number;
  seconds: number;
  projectedSecondsAtPacing: number;
}

async function main() {
  // BENCH_PG_PORT when set, else a free port.
  const port = await configuredOrFreePort(loadConfig().bench.pgPort);
  const dataDir = path.join(root, '.data', `bench-api-${process.pid}`);
  const pg = await startEmbeddedPostgres({
    dataDir,
    port,
    databases: ['bench_api_100k', 'bench_api_200k'],
    ephemeral: true,
  });
  const results: Record<string, Measure> = {};
  try {
    await scenario(pg.url('bench_api_100k'), 100_000, results, '100k');
    await scenario(pg.url('bench_api_200k'), 200_000, results, '200k');
  } finally {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const b = results['bootstrap 100k']!;
  const i1 = results['incremental 100k, 1,000 changed']!;
  const i2 = results['incremental 100k, 2,000 changed']!;
  const n = results['nightly 100k, 3,000 changed']!;
  const l1 = results['incremental 200k, 1,000 changed']!;
  const lb = results['bootstrap 200k']!;
  console.log('');
  console.log(
    `${'run'.padEnd(36)} ${'calls'.padStart(7)} ${'rows'.padStart(8)} ${'wall s'.padStart(8)} ` +
      `${'s at 0.6 s/call'.padStart(16)}`,
  );
  for (const m of Object.values(results)) {
    console.log(
      `${m.label.padEnd(36)} ${String(m.calls).padStart(7)} ${String(m.rows).padStart(8)} ` +
        `${m.seconds.toFixed(2).padStart(8)} ${m.projectedSecondsAtPacing.toFixed(0).padStart(16)}`,
    );
  }
  const ratio = i1.calls / b.calls;
  const growth = i2.calls / i1.calls;
  const tableGrowth = l1.calls / i1.calls;
  console.log('');
  console.log(
    `incremental (1,000 changes) / bootstrap ` +
      `calls: ${ratio.toFixed(4)} (1/${(1 / ratio).toFixed(0)}) — target ≤ 1/20: ` +
      `${ratio <= 1 / 20 ? 'met' : 'NOT met'}`,
  );
  console.log(`calls grow with the changes: 2,000 vs 1,000 changes → ×${growth.toFixed(2)} calls`);
  console.log(
    `not with the table: 1,000 changes in 200,000 vs in 100,000 records → ×${tableGrowth.toFixed(2)} calls ` +
      `(bootstrap ×${(lb.calls / b.calls).toFixed(2)})`,
  );
  console.log(`nightly (3,000 changes since the last nightly) / bootstrap calls: ${(n.calls / b.calls).toFixed(4)}`);
  console.log(
    `wall time, incremental vs ` +
      `bootstrap: ${i1.seconds.toFixed(2)} s vs ${b.seconds.toFixed(2)} s (×${(b.seconds / i1.seconds).toFixed(0)} ` +
      `faster)`,
  );
  // Call counts are exact (the server counts them and api_hits must agree), so one run of each
  // scenario decides the target; wall times are single runs and only illustrate.
  finish(
    'api',
    {
      date: new Date().toISOString(),
      pageSize: 100,
      pacingSecondsAssumed: PACING_S,
      runs: Object.values(results),
      ratios: {
        incrementalToBootstrapCalls: Number(ratio.toFixed(5)),
        nightlyToBootstrapCalls: Number((n.calls / b.calls).toFixed(5)),
        callGrowth2000vs1000Changes: Number(growth.toFixed(3)),
        callGrowthTable200kvs100k: Number(tableGrowth.toFixed(3)),
        wallTimeSpeedup: Number((b.seconds / i1.seconds).toFixed(1)),
      },
    },
    [
      {
        name: 'incremental (1,000 changes) / bootstrap API calls',
        value: Number(ratio.toFixed(5)),
        op: '<=',
        target: 1 / 20,
      },
    ],
  );
}

async function scenario(url: string, size: number, results: Record<string, Measure>, tag: string) {
  const server = await startSchoolApiServer({
    port: loadConfig().bench.apiPort,
    sizes: { users: 1000, projectsUsers: size, achievementsUsers: 10, coalitionsUsers: 10 },
    mainCursusShare: 1,
    hourlyLimit: 10_000_000,
  });
  const pool = createPool(url, { max: 4 });
  try {
    await migrate(pool);
    const config = loadConfig({
      SCHOOL_API_URL: server.url,
      SCHOOL_API_CLIENT_ID: server.clientId,
      SCHOOL_API_CLIENT_SECRET: server.clientSecret,
      SLEEP_BETWEEN_CALLS: '0',
      SCHOOL_API_PAGE_SIZE: '100',
    });
    const act = createSchoolApiActivities({
      warehouse: pool,
      oltp: pool,
      outputDir: '/tmp',
      logger: pino({ level: 'silent' }),
      config,
      sources: createSourceClients(config),
    });
    const tables = ['projects_users'];
    let day = 0;
    const measure = async (label: string, node: string, opts: { targetDate?: string; force?: boolean }) => {
      server.stats.reset();
      const before = await recorded(pool);
      const t0 = performance.now();
      const r = await act.syncSchoolTables({
        pipeline: 'bench',
        nodeId: node,
        targetDate: opts.targetDate,
        force: opts.force ?? false,
        params: { tables },
      });
      const seconds = (performance.now() - t0) / 1000;
      const m: Measure = {
        label,
        calls: server.stats.total,
        recordedCalls: (await recorded(pool)) - before,
        rows: r.rows,
        seconds: Number(seconds.toFixed(3)),
        projectedSecondsAtPacing: Number((seconds + server.stats.total * PACING_S).toFixed(1)),
      };
      if (m.calls !== m.recordedCalls)
        throw new Error(`${label}: server saw ${m.calls} calls, api_hits recorded ${m.recordedCalls}`);
      results[label] = m;
      process.stderr.write(`  ${label}: ${m.calls} calls, ${m.rows} rows, ${m.seconds} s\n`);
    };
    const date = () => `2026-02-${String(10 + day++).padStart(2, '0')}`;
    await measure(`bootstrap ${tag}`, 'nightly_projects_users', { targetDate: date(), force: true });
    if (tag === '100k') {
      await change(server, 1000);
      await measure(`incremental ${tag}, 1,000 changed`, 'incremental_projects_users', {});
      await change(server, 2000);
      await measure(`incremental ${tag}, 2,000 changed`, 'incremental_projects_users', {});
      await measure(`nightly ${tag}, 3,000 changed`, 'nightly_projects_users', { targetDate: date() });
    } else {
      await change(server, 1000);
      await measure(`incremental ${tag}, 1,000 changed`, 'incremental_projects_users', {});
    }
  } finally {
    await pool.end();
    await server.close();
  }
}

/**
 * Changes `n` distinct records with updated_at spread evenly between the previous batch and now,
 * as real edits arrive over time (never behind a cursor an earlier run has already stored).
 */
let lastChangeAt = 0;
async function change(server: SchoolApiServer, n: number) {
  await new Promise((r) => setTimeout(r, 20));
  const now = Date.now() - 5;
  const from = Math.max(lastChangeAt, now - 60_000);
  server.touchRandom('projects_users', n, new Date(now), now - from);
  lastChangeAt = now;
}

async function recorded(pool: ReturnType<typeof createPool>): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT coalesce(sum(calls), 0)::int AS n FROM api_hits');
  return rows[0]!.n;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
