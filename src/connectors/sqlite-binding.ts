// better-sqlite3 is a native addon: `npm install` compiles it for the Node.js that ran it, and
// another Node major (Node 24 beside Node 20) cannot load that build. scripts/provision.sh
// (LEARNSYNC_NODE24=1) compiles a second copy into .tools/better-sqlite3-<version>-abi<ABI>/;
// every SQLite database learnsync opens goes through openSqlite, which picks the copy for the
// running ABI (process.versions.modules) when there is one, and npm's own build otherwise.
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');

/** The addon compiled for this Node's ABI under .tools/, or undefined to load npm's own build. */
export function sqliteNativeBinding(
  abi: string = process.versions.modules,
  toolsDir: string = path.join(projectRoot, '.tools'),
): string | undefined {
  const pkgJson = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const file = path.join(toolsDir, `better-sqlite3-${version}-abi${abi}`, 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}

let binding: string | undefined | null = null;

export function openSqlite(file: string, options: Database.Options = {}): Database.Database {
  if (binding === null) binding = sqliteNativeBinding();
  return new Database(file, { ...options, ...(binding && { nativeBinding: binding }) });
}

export type SqliteDatabase = Database.Database;
