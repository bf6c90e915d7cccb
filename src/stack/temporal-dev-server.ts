// The local Temporal: the real `temporal server start-dev` (server + Web UI) from the provisioned
// CLI, reused when something already answers on the address.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

export interface TemporalHandle {
  address: string;
  uiUrl?: string;
  startedHere: boolean;
  stop(): Promise<void>;
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const conn = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `Temporal at ${address} did not become ready in ${timeoutMs / 1000}s: ${(lastError as Error)?.message}`,
  );
}

export async function startTemporalDevServer(opts: {
  cliPath: string;
  port: number;
  uiPort: number;
  /** SQLite file that keeps workflows and schedules across restarts; in memory when omitted. */
  dbFile?: string;
  namespace?: string;
  onLog?: (line: string) => void;
}): Promise<TemporalHandle> {
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  if (await portOpen('127.0.0.1', opts.port)) {
    await waitForTemporal(address, 15_000);
    return { address, uiUrl, startedHere: false, stop: async () => {} };
  }
  if (opts.dbFile) await mkdir(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    'error',
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    ...SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
    // Ready activities start with the workflow task that schedules them, and a run started by a
    // client sharing the worker's connection gets its first workflow task in the start response
    // (both measured in bench/orchestration.ts).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
  ];
  const child: ChildProcess = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = opts.onLog ?? (() => {});
  child.stdout?.on('data', (d: Buffer) => log(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal server start-dev exited early with code ${code}`))),
  );
  exited.catch(() => {});
  await Promise.race([waitForTemporal(address), exited]);
  return {
    address,
    uiUrl,
    startedHere: true,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Registers learnsync's search attributes on a server the user runs (the dev server gets them as flags). */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return missing.map((k) => k.name);
}
