// Credentials in URL-valued configuration, and the one masking function on everything stored or
// printed: every URL variable (webhooks, the Temporal UI link, the error-tracker endpoints, the
// source APIs…) refuses user:password@ and token parameters at start-up, naming the variable and
// never echoing the credential; and secrets that still reach an error text (an upstream echoing
// them, a row written before today's rules) are masked in the alerts table, the Kusto source state,
// the logs and `status --json`.
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/client.js';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { markNotified } from '../../src/pipelines/alerts/store.js';
import { recordSourceSync } from '../../src/pipelines/learning-roi/status.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const URL_PASSWORD = 'Pl4nted-Url-Password-1001';
const URL_TOKEN = 'Pl4nted-Url-Token-1002';
const GITHUB_TOKEN = 'ghp_Pl4ntedGithubToken1003';
const WEBHOOK_PATH_SECRET = 'Pl4nted-Webhook-Path-1004';
const PLANTED = [URL_PASSWORD, URL_TOKEN, GITHUB_TOKEN, WEBHOOK_PATH_SECRET];

// Postgres connection URLs carry their password by convention; it is registered and masked instead.
const POSTGRES_URLS = new Set(['DATABASE_URL', 'WAREHOUSE_DATABASE_URL', 'OLTP_DATABASE_URL', 'APP_DB_POSTGRES_URL']);
const URL_VARIABLES = CONFIG_VARIABLES.filter((v) => /_(URL|URLS|ENDPOINT)$/.test(v) && !POSTGRES_URLS.has(v));

function configError(env: Record<string, string>): Error {
  try {
    loadConfig(env);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('credentials in any URL-valued variable are refused at start-up', () => {
  it('finds every URL variable, including those the API checks did not cover', () => {
    expect(URL_VARIABLES).toEqual(
      expect.arrayContaining([
        'ALERT_WEBHOOK_URLS',
        'ALERT_SLACK_WEBHOOK_URLS',
        'TEMPORAL_UI_URL',
        'BUGSNAG_NOTIFY_URL',
        'BIGQUERY_API_ENDPOINT',
        'ERROR_REPORTING_ENDPOINT',
        'GITHUB_API_URL',
        'SCHOOL_API_URL',
        'KUSTO_ANALYTICS_CLUSTER_URL',
      ]),
    );
  });

  it.each(URL_VARIABLES)('%s', (variable) => {
    for (const url of [
      `https://user:${URL_PASSWORD}@hooks.example.com/x`,
      `https://${URL_TOKEN}@hooks.example.com/x`,
      `https://hooks.example.com/x?token=${URL_TOKEN}`,
    ]) {
      // A list variable is checked entry by entry: a clean first entry does not hide a second.
      const value = variable.endsWith('_URLS') ? `https://clean.example.com/hook,${url}` : url;
      const err = configError({ [variable]: value });
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(`${variable}:`);
      expect(err.message).toMatch(/must not carry credentials/);
      for (const s of PLANTED) expect(err.message).not.toContain(s);
    }
  });

  it('names every offending variable at once, and accepts clean URLs and Postgres passwords', () => {
    const env = Object.fromEntries(URL_VARIABLES.map((v) => [v, `https://u:${URL_PASSWORD}@h.example.com/`]));
    const err = configError(env);
    for (const v of URL_VARIABLES) expect(err.message).toContain(`${v}:`);
    expect(() =>
      loadConfig({
        ALERT_WEBHOOK_URLS: `https://hooks.example.com/services/${WEBHOOK_PATH_SECRET}`,
        TEMPORAL_UI_URL: 'https://temporal.example.com',
        WAREHOUSE_DATABASE_URL: `postgres://etl:${URL_PASSWORD}@db:5432/warehouse`,
      }),
    ).not.toThrow();
  });
});

describe('every stored or printed error passes the one masking function', () => {
  let db: TestDatabases;
  const saved = { ...process.env };

  beforeAll(async () => {
    db = await createTestDatabases();
  });
  afterAll(async () => {
    process.env = saved;
    await db?.close();
  });

  it('a command started with credentials in every URL variable refuses to start, naming each one', async () => {
    const planted = Object.fromEntries(
      URL_VARIABLES.map((v, i) => [
        v,
        i % 2 ? `https://u:${URL_PASSWORD}@h.example.com/` : `https://h.example.com/?access_token=${URL_TOKEN}`,
      ]),
    );
    Object.assign(process.env, planted, { WAREHOUSE_DATABASE_URL: db.warehouseUrl });
    const out: string[] = [];
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    let code: number;
    let errors: string;
    try {
      code = await main(['status', '--json'], (l = '') => out.push(l));
      errors = stderr.mock.calls.map((c) => c.join(' ')).join('\n');
    } finally {
      stderr.mockRestore();
      for (const v of URL_VARIABLES) delete process.env[v];
    }
    expect(code).toBe(2);
    expect(out).toEqual([]); // nothing ran
    expect(errors.split('\n')).toHaveLength(1);
    for (const v of URL_VARIABLES) expect(errors).toContain(`${v}:`);
    for (const secret of PLANTED) expect(errors + out.join('')).not.toContain(secret);
  });

  it('leaves no planted secret in alerts, source state, logs or `status --json`', async () => {
    // A closed port: status reports Temporal unreachable on stderr and still prints the warehouse part.
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const env = {
      WAREHOUSE_DATABASE_URL: db.warehouseUrl,
      OLTP_DATABASE_URL: db.oltpUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${closed}`,
      GITHUB_TOKEN,
      ALERT_WEBHOOK_URLS: `http://127.0.0.1:${closed}/hooks/${WEBHOOK_PATH_SECRET}`,
      LOG_LEVEL: 'error',
    };
    Object.assign(process.env, env);
    loadConfig(env);
    // What an upstream (webhook receiver, proxy, API) may echo back in an error body.
    const echo =
      `upstream said: ${GITHUB_TOKEN} at https://admin:${URL_PASSWORD}@proxy.internal/x?access_token=${URL_TOKEN} ` +
      `posting to http://127.0.0.1:${closed}/hooks/${WEBHOOK_PATH_SECRET} with Authorization: Bearer ${URL_TOKEN}`;

    const { rows } = await db.warehouse.query<{ id: string }>(
      `INSERT INTO alerts (rule, subject, pipeline, severity, message) VALUES ('job_failed', 'demo', 'demo', 'critical',
        'demo failed') RETURNING id`,
    );
    await markNotified(db.warehouse, Number(rows[0]!.id), 'opened', echo);
    await recordSourceSync(db.warehouse, { source: 'ace_exam_results', status: 'failed', error: echo });

    const logLines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    });
    logger.error({ err: echo }, `delivery failed: ${echo}`);

    const out: string[] = [];
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    let code: number;
    try {
      code = await main(['status', '--json'], (l = '') => out.push(l));
    } finally {
      stderr.mockRestore();
    }
    expect(code).toBe(2); // Temporal unreachable, the rest printed
    const status = out.join('\n');
    const parsed = JSON.parse(status) as { sections: Record<string, unknown> };
    expect(status).toContain('upstream said: ***'); // the stored error is shown, masked

    const stored = await db.warehouse.query<{ t: string }>(
      `SELECT coalesce((SELECT string_agg(last_notify_error, ' ') FROM alerts), '') || ' ' ||
              coalesce((SELECT string_agg(error, ' ') FROM learning_roi.source_syncs), '') AS t`,
    );
    const haystacks = { tables: stored.rows[0]!.t, logs: logLines.join(''), status };
    expect(haystacks.tables).toContain('https://admin:***@proxy.internal/x?access_token=***');
    expect(Object.keys(parsed.sections).length).toBeGreaterThan(0);
    for (const [where, text] of Object.entries(haystacks))
      for (const secret of PLANTED)
        expect({ where, secret, leaked: text.includes(secret) }).toMatchObject({ leaked: false });
  });
});
