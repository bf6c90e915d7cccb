import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteSource } from '../../../src/connectors/app-db/sqlite.js';
import { bigQueryTypeOf, toBigQueryValue } from '../../../src/pipelines/app-db/schema-mapping.js';

describe('app-db configuration', () => {
  it('a file that is not SQLite is a configuration error naming APP_DB_SQLITE_PATH, not an outage', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'learnsync-notdb-'));
    try {
      const file = path.join(dir, 'app.sqlite');
      writeFileSync(file, 'id,name\n1,not a database at all, just a CSV that is long enough to have a header\n');
      let thrown: unknown;
      try {
        openSqliteSource(file);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(/^APP_DB_SQLITE_PATH .*app\.sqlite is not a SQLite database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('defaults to the sample app database and the local emulator', () => {
    const c = loadConfig({ LEARNSYNC_DATA_DIR: '/tmp/ls' }).appDb;
    expect(c.source).toEqual({ kind: 'sample', path: '/tmp/ls/app-db/sample-app.sqlite', chatRows: 20_000 });
    expect(c.bigquery).toMatchObject({ mode: 'emulator', projectId: 'learnsync-local', datasetId: 'app_db' });
    expect(c.secretColumns).toEqual({ org_api_keys: ['key'] });
    expect(c.errorTracker).toEqual({ kind: 'none' });
  });

  it('goes live with a project, and asks for the hash key with a real source', () => {
    expect(() => loadConfig({ APP_DB_SQLITE_PATH: '/srv/app.sqlite' })).toThrow(/APP_DB_HASH_KEY/);
    const c = loadConfig({
      APP_DB_SQLITE_PATH: '/srv/app.sqlite',
      APP_DB_HASH_KEY: 'k'.repeat(32),
      BIGQUERY_PROJECT: 'my-project',
      APP_DB_DROP_COLUMNS: 'users.email, code_drafts.code',
    }).appDb;
    expect(c.bigquery.mode).toBe('live');
    expect(c.dropColumns).toEqual({ users: ['email'], code_drafts: ['code'] });
    expect(() => loadConfig({ APP_DB_SQLITE_PATH: '/a', APP_DB_POSTGRES_URL: 'postgres://x/y' })).toThrow(ConfigError);
    expect(() => loadConfig({ APP_DB_SECRET_COLUMNS: 'users' })).toThrow(
      /APP_DB_SECRET_COLUMNS: must list table.column/,
    );
    expect(() => loadConfig({ BIGQUERY_API_ENDPOINT: 'http://127.0.0.1:9050' })).toThrow(/needs BIGQUERY_PROJECT/);
  });
});

describe('app-db type mapping', () => {
  it('maps SQLite affinities and Postgres types', () => {
    expect(
      [
        'INTEGER',
        'BIGINT',
        'TEXT',
        'VARCHAR(20)',
        'BLOB',
        'REAL',
        'DOUBLE',
        'NUMERIC(10,2)',
        'BOOLEAN',
        'DATETIME',
        'TIMESTAMP',
        'DATE',
        'JSON',
        '',
      ].map((t) => bigQueryTypeOf('sqlite', t)),
    ).toEqual([
      'INT64',
      'INT64',
      'STRING',
      'STRING',
      'BYTES',
      'FLOAT64',
      'FLOAT64',
      'NUMERIC',
      'BOOL',
      'TIMESTAMP',
      'TIMESTAMP',
      'DATE',
      'STRING',
      'STRING',
    ]);
    expect(
      [
        'bigint',
        'integer',
        'text',
        'character varying(50)',
        'uuid',
        'jsonb',
        'numeric(6,2)',
        'double precision',
        'boolean',
        'timestamp with time zone',
        'timestamp without time zone',
        'date',
        'bytea',
      ].map((t) => bigQueryTypeOf('postgres', t)),
    ).toEqual([
      'INT64',
      'INT64',
      'STRING',
      'STRING',
      'STRING',
      'STRING',
      'NUMERIC',
      'FLOAT64',
      'BOOL',
      'TIMESTAMP',
      'TIMESTAMP',
      'DATE',
      'BYTES',
    ]);
  });

  it('converts values for the NDJSON load and refuses what it cannot convert', () => {
    expect(toBigQueryValue('2025-01-06 08:00:00', 'TIMESTAMP')).toBe('2025-01-06 08:00:00+00:00');
    expect(toBigQueryValue('2025-01-06T08:00:00+0530', 'TIMESTAMP')).toBe('2025-01-06 08:00:00+05:30');
    expect(toBigQueryValue(new Date('2025-01-06T08:00:00Z'), 'TIMESTAMP')).toBe('2025-01-06T08:00:00.000Z');
    expect(toBigQueryValue(1, 'BOOL')).toBe(true);
    expect(toBigQueryValue({ a: 1 }, 'STRING')).toBe('{"a":1}');
    expect(toBigQueryValue(null, 'INT64')).toBeNull();
    expect(() => toBigQueryValue('yesterday', 'TIMESTAMP')).toThrow(/not a timestamp/);
    expect(() => toBigQueryValue('12abc', 'INT64')).toThrow(/not an integer/);
  });

  it("refuses values outside BigQuery's ranges, naming the range, and keeps big integers exact", () => {
    expect(toBigQueryValue(9007199254740993n, 'INT64')).toBe('9007199254740993');
    expect(toBigQueryValue('-9223372036854775808', 'INT64')).toBe('-9223372036854775808');
    expect(() => toBigQueryValue('9223372036854775808', 'INT64')).toThrow(/outside BigQuery's INT64 range/);
    expect(() => toBigQueryValue(1e20, 'INT64')).toThrow(/outside BigQuery's INT64 range/);
    expect(toBigQueryValue('12345678901234567890123456789.123456789', 'NUMERIC')).toBe(
      '12345678901234567890123456789.123456789',
    );
    expect(toBigQueryValue(1e-7, 'NUMERIC')).toBe('0.0000001');
    expect(() => toBigQueryValue('123456789012345678901234567890', 'NUMERIC')).toThrow(
      /does not fit BigQuery's NUMERIC/,
    );
    expect(() => toBigQueryValue('0.1234567891', 'NUMERIC')).toThrow(/does not fit BigQuery's NUMERIC/);
    expect(toBigQueryValue(1714557600000, 'TIMESTAMP')).toBe('2024-05-01T10:00:00.000Z');
    expect(toBigQueryValue(1714557600, 'TIMESTAMP')).toBe('2024-05-01T10:00:00.000Z');
    expect(() => toBigQueryValue(1714557600000000, 'TIMESTAMP')).toThrow(/outside BigQuery's range/);
    expect(() => toBigQueryValue('0000-12-31 23:59:59', 'TIMESTAMP')).toThrow(/outside BigQuery's range/);
    expect(() => toBigQueryValue('2024-02-30 00:00:00', 'TIMESTAMP')).toThrow(/not a timestamp/);
    expect(() => toBigQueryValue('2023-02-29 00:00:00', 'TIMESTAMP')).toThrow(/not a timestamp/);
    expect(toBigQueryValue('2024-02-29 23:59:59', 'TIMESTAMP')).toBe('2024-02-29 23:59:59+00:00');
    expect(() => toBigQueryValue('2024-05-01 24:00:00', 'TIMESTAMP')).toThrow(/not a timestamp/);
    expect(() => toBigQueryValue('2024-05-01T10:00:00+15:00', 'TIMESTAMP')).toThrow(/not a timestamp/);
    expect(() => toBigQueryValue('9999-12-31T23:00:00-02:00', 'TIMESTAMP')).toThrow(/outside BigQuery's range/);
    expect(() => toBigQueryValue(new Date(8.64e15), 'TIMESTAMP')).toThrow(/outside BigQuery's range/);
    expect(toBigQueryValue('0001-01-01', 'DATE')).toBe('0001-01-01');
    expect(() => toBigQueryValue('0000-01-01', 'DATE')).toThrow(/not a date BigQuery holds/);
    expect(() => toBigQueryValue('2023-02-29', 'DATE')).toThrow(/not a date BigQuery holds/);
  });
});
