// The offline BigQuery for the demo and the tests: the provisioned `bqemulator` (PyPI, pinned in
// scripts/provision.sh) started on given or free ports, waited on until its REST API answers, and
// stopped with its whole process group. It runs with the HOME provision.sh prepared, where DuckDB
// finds the spatial extension instead of downloading it. Nothing is downloaded at run time.
// Like Postgres and Temporal it runs under the child watchdog (child-watchdog.ts): whatever ends the
// process that started it (a SIGKILLed worker or `dev`), its whole process group is stopped, and a
// port that already answers is refused instead of silently reusing what answers there.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'node:net';
import { ConfigError } from '../errors.js';
import { unwatchChild, watchChild } from './child-watchdog.js';
import { freePort } from './temporal-dev-server.js';

/** True when something accepts connections on 127.0.0.1:port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

export interface BigQueryEmulatorHandle {
  /** http://127.0.0.1:<rest port>: the apiEndpoint for @google-cloud/bigquery. */
  apiEndpoint: string;
  projectId: string;
  restPort: number;
  grpcPort: number;
  stop(): Promise<void>;
}

export interface BigQueryEmulatorPaths {
  executable: string;
  home: string;
}

/** Where provision.sh put the emulator, or a clear error saying how to get it. */
export function bigQueryEmulatorPaths(projectRoot: string, explicit?: string): BigQueryEmulatorPaths {
  const executable = explicit ?? path.join(projectRoot, '.tools', 'bq-venv', 'bin', 'bqemulator');
  const home = path.join(projectRoot, '.tools', 'bq-home');
  if (!existsSync(executable)) {
    throw new ConfigError(
      `bqemulator not found at ${executable}: run \`npm run setup\` (installs it from PyPI), ` +
        'or set BIGQUERY_EMULATOR_PATH, or point BIGQUERY_PROJECT at real BigQuery.',
    );
  }
  return { executable, home };
}

export function bigQueryEmulatorProvisioned(projectRoot: string): boolean {
  try {
    bigQueryEmulatorPaths(projectRoot);
    return true;
  } catch {
    return false;
  }
}

async function waitForRest(
  endpoint: string,
  projectId: string,
  exited: Promise<never>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await Promise.race([
        fetch(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`, { signal: AbortSignal.timeout(2000) }),
        exited,
      ]);
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
    } catch (err) {
      if ((err as Error).message.includes('exited')) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`bqemulator at ${endpoint} did not answer in ${timeoutMs / 1000}s: ${(last as Error)?.message}`);
}

export async function startBigQueryEmulator(opts: {
  projectRoot: string;
  projectId: string;
  executable?: string;
  restPort?: number;
  grpcPort?: number;
  onLog?: (line: string) => void;
  timeoutMs?: number;
}): Promise<BigQueryEmulatorHandle> {
  const { executable, home } = bigQueryEmulatorPaths(opts.projectRoot, opts.executable);
  const restPort = opts.restPort ?? (await freePort());
  const grpcPort = opts.grpcPort ?? (await freePort());
  // A fixed port that already answers is another emulator (perhaps one left behind before the
  // watchdog) or another program: using it would read and write data this process never synced.
  for (const [variable, port] of [
    ['BIGQUERY_EMULATOR_REST_PORT', restPort],
    ['BIGQUERY_EMULATOR_GRPC_PORT', grpcPort],
  ] as const) {
    if (await portAnswers(port))
      throw new ConfigError(
        `${variable} ${port} is already in use (an emulator left running, or another program): stop it, or ` +
          `choose another port`,
      );
  }
  const args = [
    'start',
    '--rest-port',
    String(restPort),
    '--grpc-port',
    String(grpcPort),
    '--project',
    opts.projectId,
    '--log-level',
    'warning',
  ];
  // detached: the emulator gets its own process group, so stop() reaches any child it spawned.
  const child: ChildProcess = spawn(executable, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, HOME: home },
  });
  // The emulator leads its own process group (detached): the watchdog stops the whole group.
  const group = child.pid === undefined ? undefined : -child.pid;
  watchChild(group, 'SIGTERM');
  const log = opts.onLog ?? (() => {});
  child.stdout?.on('data', (d: Buffer) => log(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`bqemulator exited early with code ${code}`))),
  );
  exited.catch(() => {});
  const apiEndpoint = `http://127.0.0.1:${restPort}`;
  const stop = async () => {
    unwatchChild(group);
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((r) => child.once('exit', r));
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await waitForRest(apiEndpoint, opts.projectId, exited, opts.timeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { apiEndpoint, projectId: opts.projectId, restPort, grpcPort, stop };
}
