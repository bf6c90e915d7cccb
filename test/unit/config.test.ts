import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync as readText } from 'node:fs';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { maskUrl } from '../../src/logging.js';

describe('loadConfig', () => {
  it('defaults to the embedded stack', () => {
    const c = loadConfig({});
    expect(c.temporal.address).toBeUndefined();
    expect(c.temporal.taskQueue).toBe('learnsync');
    expect(c.postgres.warehouseUrl).toBeUndefined();
    expect(c.worker.maxConcurrentActivities).toBe(8);
  });

  it('lets DATABASE_URL serve both the warehouse and the OLTP source unless they are set apart', () => {
    const one = loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' });
    expect(one.postgres.warehouseUrl).toBe('postgres://u:p@h/db');
    expect(one.postgres.oltpUrl).toBe('postgres://u:p@h/db');
    const two = loadConfig({ DATABASE_URL: 'postgres://u:p@h/wh', OLTP_DATABASE_URL: 'postgres://u:p@o/app' });
    expect(two.postgres.oltpUrl).toBe('postgres://u:p@o/app');
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'url');
    writeFileSync(file, 'postgresql://etl:s3cret@db:5432/warehouse\n');
    expect(loadConfig({ WAREHOUSE_DATABASE_URL_FILE: file }).postgres.warehouseUrl).toBe(
      'postgresql://etl:s3cret@db:5432/warehouse',
    );
    expect(() => loadConfig({ WAREHOUSE_DATABASE_URL_FILE: path.join(dir, 'missing') })).toThrow(
      /WAREHOUSE_DATABASE_URL_FILE points at .* cannot be read/,
    );
  });

  it('ignores *_FILE variables that are not its own', () => {
    expect(() => loadConfig({ SOME_TOOL_CONFIG_FILE: '/nonexistent' })).not.toThrow();
  });

  it('connects over TLS when an API key is given', () => {
    expect(loadConfig({}).temporal.tls).toBe(false);
    const cloud = loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k-123' });
    expect(cloud.temporal).toMatchObject({ tls: true, apiKey: 'k-123' });
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls).toBe(true);
  });

  it('says which variable is wrong and why', () => {
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS: must be host:port/);
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: 'lots' })).toThrow(/WORKER_MAX_CONCURRENT_ACTIVITIES/);
    expect(() => loadConfig({ WAREHOUSE_DATABASE_URL: 'mysql://x' })).toThrow(/postgres:\/\//);
  });

  it('masks passwords in URLs shown to people', () => {
    expect(maskUrl('postgresql://etl:s3cret@db:5432/warehouse')).toBe('postgresql://etl:***@db:5432/warehouse');
  });
});

describe('README', () => {
  it('documents every configuration variable', () => {
    const readme = readText(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- config:start -->'), readme.indexOf('<!-- config:end -->'));
    const missing = CONFIG_VARIABLES.filter((v) => !table.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });
});
