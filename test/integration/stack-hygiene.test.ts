// Local stack hygiene: a failed start stops what it had started and says why in one line; the
// children never outlive a parent that is SIGKILLed.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startEmbeddedPostgres } from '../../src/stack/embedded-postgres.js';
import { startLocalStack } from '../../src/stack/local-stack.js';
import { freePort, portOpen } from '../../src/stack/ports.js';
import { projectRoot } from '../support/temporal.js';

const servers: net.Server[] = [];
const cleanups: (() => void)[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  cleanups.forEach((c) => c());
});

/** Pids of this process's children whose command is `name` (the watchdog is a node, not these). */
function childrenNamed(name: string): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the process has no children at all.
  }
  return out.split('\n').filter((l) => l.includes(name));
}

async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('a Postgres start failing on a taken port stops the Temporal server started beside it, naming why', async () => {
  const taken = net.createServer();
  servers.push(taken);
  const pgPort = await new Promise<number>((r) =>
    taken.listen(0, '127.0.0.1', () => r((taken.address() as net.AddressInfo).port)),
  );
  const devPort = await freePort();
  const config = loadConfig({
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(pgPort),
    LEARNSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'hygiene-')),
  });
  const err = await startLocalStack(config, createLogger({ level: 'silent' }), { worker: false }).catch(
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toBe(
    `embedded Postgres cannot start: port ${pgPort} is in use ` +
      "(by a program that is not learnsync's embedded Postgres). " +
      'Set EMBEDDED_PG_PORT to a free port, or WAREHOUSE_DATABASE_URL to a running Postgres.',
  );
  // The dev server that came up beside it is gone again, and no child process is left.
  expect(await portOpen('127.0.0.1', devPort)).toBe(false);
  expect(childrenNamed('temporal')).toEqual([]);
  expect(childrenNamed('postgres')).toEqual([]);
});

it('a Postgres that refuses its data directory is reported with its own words, in one line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hygiene-pg-'));
  const dataDir = path.join(dir, 'pg');
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(path.join(dataDir, 'PG_VERSION'), '9\n');
  execFileSync('chmod', ['-R', 'a+rwx', dir]);
  const port = await freePort();
  const err = await startEmbeddedPostgres({ dataDir, port, databases: [] }).catch((e: unknown) => e as Error);
  expect((err as Error).message).toMatch(
    new RegExp(
      `^embedded Postgres did not start on port ${port} \\(data in .*\\): ` +
        'postgres: could not access the server configuration file',
    ),
  );
  expect((err as Error).message).not.toContain('\n');
  expect(await portOpen('127.0.0.1', port)).toBe(false);
});

it('children of a parent killed with SIGKILL are stopped by the watchdog', async () => {
  const [port, uiPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  // Inside the project like the test cluster: as root, Postgres runs as a user that cannot enter /tmp/…0700.
  const pgDir = path.join(projectRoot, '.data', `test-hygiene-${process.pid}`);
  cleanups.push(() => rmSync(pgDir, { recursive: true, force: true }));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(projectRoot, 'test/support/stack-child.ts'),
      ...[port, uiPort, pgPort].map(String),
      pgDir,
    ],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`stack child exited early with ${code}`)));
  });
  const pgPid = Number(ready.split(' ')[2]);
  expect(pgPid).toBeGreaterThan(0);
  expect(await portOpen('127.0.0.1', port)).toBe(true);
  expect(await portOpen('127.0.0.1', pgPort)).toBe(true);

  child.kill('SIGKILL');
  expect(await waitFor(async () => !(await portOpen('127.0.0.1', port)), 15_000)).toBe(true);
  expect(await waitFor(() => !alive(pgPid), 15_000)).toBe(true);
  expect(await portOpen('127.0.0.1', pgPort)).toBe(false);
});

it('dev supervision restarts a Temporal dev server and a Postgres that were SIGKILLed', async () => {
  const pgDir = path.join(projectRoot, '.data', `test-supervise-${process.pid}`);
  cleanups.push(() => rmSync(pgDir, { recursive: true, force: true }));
  const devPort = await freePort();
  const pgPort = await freePort();
  const config = loadConfig({
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(pgPort),
    LEARNSYNC_DATA_DIR: pgDir,
  });
  const stack = await startLocalStack(config, createLogger({ level: 'silent' }), { worker: false });
  try {
    const said: string[] = [];
    const gaveUp = stack.supervise((l) => said.push(l));
    const devPid = Number(
      execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .find((l) => l.includes(`--port ${devPort}`))!
        .trim()
        .split(' ')[0],
    );
    process.kill(devPid, 'SIGKILL');
    expect(await waitFor(() => said.some((l) => l.startsWith('Temporal dev server is back')), 60_000)).toBe(true);
    expect(await portOpen('127.0.0.1', devPort)).toBe(true);

    const pgPid = Number(readFileSync(path.join(pgDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pgPid, 'SIGKILL');
    expect(await waitFor(() => said.some((l) => l.startsWith('embedded Postgres is back')), 60_000)).toBe(true);
    expect(await portOpen('127.0.0.1', pgPort)).toBe(true);
    expect(said[0]).toMatch(/^Temporal dev server exited \(code null\); restarting it/);
    void gaveUp;
  } finally {
    await stack.stop();
  }
  expect(await portOpen('127.0.0.1', devPort)).toBe(false);
  expect(await portOpen('127.0.0.1', pgPort)).toBe(false);
}, 180_000);
