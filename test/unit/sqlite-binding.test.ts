// Node 20 and Node 24 side by side (issue 19): better-sqlite3's addon is picked by the running
// Node's ABI, from .tools/ when provision compiled one for it, else npm's own build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSqlite, sqliteNativeBinding } from '../../src/connectors/sqlite-binding.js';

const tools = mkdtempSync(path.join(os.tmpdir(), 'sqlite-binding-'));
afterAll(() => rmSync(tools, { recursive: true, force: true }));
const version = (createRequire(import.meta.url)('better-sqlite3/package.json') as { version: string }).version;

it('uses the copy compiled for this ABI when there is one, npm’s build otherwise', () => {
  const dir = path.join(tools, `better-sqlite3-${version}-abi999`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'better_sqlite3.node'), '');
  expect(sqliteNativeBinding('999', tools)).toBe(path.join(dir, 'better_sqlite3.node'));
  expect(sqliteNativeBinding('998', tools)).toBeUndefined();
});

it(`opens a database on this Node (${process.version}, ABI ${process.versions.modules})`, () => {
  const db = openSqlite(':memory:');
  try {
    expect(db.prepare('SELECT 6 * 7 AS n').get()).toEqual({ n: 42 });
  } finally {
    db.close();
  }
});
