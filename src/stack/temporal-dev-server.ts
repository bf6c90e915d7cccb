// The local Temporal: the real `temporal server start-dev` (server + Web UI) from the provisioned
// CLI, reused when something already answers on the address. A failed start kills what it spawned
// and says why in one line; a started server is registered with the watchdog so it never outlives
// this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { unwatchChild, watchChild } from './child-watchdog.js';
import { portOpen } from './ports.js';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

export interface TemporalHandle {
  address: string;
  uiUrl?: string;
  startedHere: boolean;
  /** The dev server's pid, when this process started it. */
  pid?: number;
  /** Resolves with the exit code when a server this process started exits (never for a reused one). */
  exited?: Promise<number | null>;
  stop(): Promise<void>;
}

export { freePort, portOpen } from './ports.js';

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
  /** How long to wait for it to answer (default 60 s; a restart on a loaded machine may need more). */
  readyTimeoutMs?: number;
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
  watchChild(child.pid, 'SIGTERM');
  const log = opts.onLog ?? (() => {});
  const recent: string[] = [];
  const remember = (d: Buffer) => {
    const text = d.toString();
    log(text);
    for (const line of text.split('\n').filter((l) => l.trim())) {
      recent.push(line.trim());
      if (recent.length > 50) recent.shift();
    }
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      unwatchChild(child.pid);
      resolve(code);
    });
    child.once('error', (err) => {
      recent.push(err.message);
      resolve(null);
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const earlyExit = exited.then((code) => {
    throw new Error(`temporal server start-dev exited early (code ${code}): ${temporalReason(recent)}`);
  });
  earlyExit.catch(() => {});
  try {
    await Promise.race([waitForTemporal(address, opts.readyTimeoutMs), earlyExit]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl, startedHere: true, pid: child.pid, exited, stop };
}

/** The dev server's own words: its error line (e.g. "address already in use"), else its last line. */
export function temporalReason(lines: string[]): string {
  const line =
    lines.find((l) => /address already in use|bind:/i.test(l)) ??
    [...lines].reverse().find((l) => /error|fatal|failed|unable/i.test(l)) ??
    lines[lines.length - 1];
  return line ? line.slice(0, 400) : 'no output';
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
