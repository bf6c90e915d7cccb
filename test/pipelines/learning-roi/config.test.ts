// Kusto and learning ROI configuration: sample mode by default, both clusters or neither, the
// three auth modes and what each needs, secrets from *_FILE.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';

const clusters = {
  KUSTO_ANALYTICS_CLUSTER_URL: 'https://gh-analytics.eastus.kusto.windows.net/',
  KUSTO_EXAM_CLUSTER_URL: 'https://cse-analytics.centralus.kusto.windows.net',
};

describe('Kusto configuration', () => {
  it('runs on the built-in sample when no cluster is configured, with the documented defaults', () => {
    const c = loadConfig({});
    expect(c.kusto).toMatchObject({
      mode: 'sample',
      examDatabase: 'ACE',
      auth: { kind: 'default' },
      queryTimeoutMs: 300_000,
      partitions: 4,
      lookbackDays: 3,
      historyStart: '2021-07-01',
    });
    expect(c.learningRoi).toMatchObject({
      sampleScale: 1,
      liveCacheSeconds: 300,
      gates: { identityMinRate: 0.65, identityMode: 'fail', rowMode: 'warn' },
    });
  });

  it('uses DefaultAzureCredential against both clusters when they are set', () => {
    const c = loadConfig({ ...clusters, KUSTO_QUERY_TIMEOUT_SECONDS: '120' });
    expect(c.kusto).toMatchObject({
      mode: 'live',
      analyticsClusterUrl: 'https://gh-analytics.eastus.kusto.windows.net',
      auth: { kind: 'default' },
      queryTimeoutMs: 120_000,
    });
  });

  it('refuses one cluster without the other', () => {
    expect(() => loadConfig({ KUSTO_ANALYTICS_CLUSTER_URL: clusters.KUSTO_ANALYTICS_CLUSTER_URL })).toThrow(
      ConfigError,
    );
  });

  it('takes an application key, with its secret from a file', () => {
    expect(() => loadConfig({ ...clusters, KUSTO_AUTH: 'app-key', KUSTO_CLIENT_ID: 'app' })).toThrow(
      /KUSTO_TENANT_ID, KUSTO_CLIENT_ID and KUSTO_CLIENT_SECRET/,
    );
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'roi-secret-')), 'secret');
    writeFileSync(file, 's3cret\n');
    const c = loadConfig({
      ...clusters,
      KUSTO_AUTH: 'app-key',
      KUSTO_TENANT_ID: 't',
      KUSTO_CLIENT_ID: 'app',
      KUSTO_CLIENT_SECRET_FILE: file,
    });
    expect(c.kusto.auth).toEqual({ kind: 'app-key', tenantId: 't', clientId: 'app', clientSecret: 's3cret' });
  });

  it('takes a system or user-assigned managed identity', () => {
    expect(loadConfig({ ...clusters, KUSTO_AUTH: 'managed-identity' }).kusto.auth).toEqual({
      kind: 'managed-identity',
      clientId: undefined,
    });
    expect(loadConfig({ ...clusters, KUSTO_AUTH: 'managed-identity', KUSTO_CLIENT_ID: 'mi' }).kusto.auth).toEqual({
      kind: 'managed-identity',
      clientId: 'mi',
    });
  });

  it('rejects bad values with the variable named', () => {
    expect(() => loadConfig({ KUSTO_AUTH: 'password' })).toThrow(/KUSTO_AUTH/);
    expect(() => loadConfig({ LEARNING_ROI_IDENTITY_MIN_RATE: '69' })).toThrow(/LEARNING_ROI_IDENTITY_MIN_RATE/);
    expect(() => loadConfig({ KUSTO_HISTORY_START: '1 July 2021' })).toThrow(/KUSTO_HISTORY_START/);
  });
});
