// Secrets never leave the process in clear: an API URL carrying credentials is refused at config
// time, pointing at the variables meant for them; and with a secret planted in every credential
// variable, a pipeline whose source echoes all of them (and a credentialled URL) in an error body
// leaves no trace of any in the logs, the ledger, the workflow history or the output files.
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { redactSecrets } from '../../src/secrets.js';
import { startSchoolApiServer, type SchoolApiServer } from '../../src/pipelines/school-api/sample/server.js';
import { createSourceClients } from '../../src/stack/source-clients.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

const SECRETS = {
  GITHUB_TOKEN: 'ghp_Pl4ntedGithubToken0001',
  SCHOOL_API_CLIENT_SECRET: 'Pl4nted-School-Secret-0002',
  KUSTO_CLIENT_SECRET: 'Pl4nted-Kusto-Secret-0003',
  KUSTO_ACCESS_TOKEN: 'Pl4nted-Kusto-Token-0004',
  TEMPORAL_API_KEY: 'Pl4nted-Temporal-Key-0005',
  OLTP_PASSWORD: 'Pl4nted-Pg-Password-0006',
};
const URL_PASSWORD = 'Pl4nted-Url-Password-0007';
const URL_TOKEN = 'Pl4nted-Url-Token-0008';
const ALL = [...Object.values(SECRETS), URL_PASSWORD, URL_TOKEN];

describe('URLs that carry credentials are refused at config time', () => {
  it.each([
    ['SCHOOL_API_URL', 'SCHOOL_API_CLIENT_SECRET'],
    ['SCHOOL_API_TOKEN_URL', 'SCHOOL_API_CLIENT_SECRET'],
    ['GITHUB_API_URL', 'GITHUB_TOKEN'],
    ['KUSTO_ANALYTICS_CLUSTER_URL', 'KUSTO_CLIENT_SECRET'],
    ['KUSTO_EXAM_CLUSTER_URL', 'KUSTO_CLIENT_SECRET'],
    ['TEMPORAL_UI_URL', 'credentials'],
  ])('%s', (variable, pointer) => {
    for (const url of [
      `https://user:${URL_PASSWORD}@api.example.com/v2`,
      `https://${URL_TOKEN}@api.example.com/v2`,
      `https://api.example.com/v2?access_token=${URL_TOKEN}`,
    ]) {
      let err: unknown;
      try {
        loadConfig({ [variable]: url });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(variable);
      expect((err as Error).message).toContain(pointer);
      for (const s of [URL_PASSWORD, URL_TOKEN]) expect((err as Error).message).not.toContain(s);
    }
    // A clean URL passes this check (other settings may still be missing).
    expect(() => loadConfig({ [variable]: 'https://api.example.com/v2?page=1' })).not.toThrow(/credentials/);
  });
});

describe('a pipeline whose source echoes every secret', () => {
  let db: TestDatabases;
  let env: TestWorkflowEnvironment;
  let school: SchoolApiServer;
  let outputDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    [db, env] = await Promise.all([createTestDatabases(), createTimeSkippingEnv()]);
    school = await startSchoolApiServer({ clientSecret: SECRETS.SCHOOL_API_CLIENT_SECRET });
    outputDir = mkdtempSync(path.join(tmpdir(), 'secrets-out-'));
  });
  afterAll(async () => {
    await school?.close();
    await env?.teardown();
    await db?.close();
  });

  it('leaves no secret in logs, ledger, workflow history or outputs', async () => {
    const config = loadConfig({
      SCHOOL_API_URL: school.url,
      SCHOOL_API_CLIENT_ID: school.clientId,
      SCHOOL_API_CLIENT_SECRET: SECRETS.SCHOOL_API_CLIENT_SECRET,
      GITHUB_TOKEN: SECRETS.GITHUB_TOKEN,
      KUSTO_AUTH: 'app-key',
      KUSTO_TENANT_ID: 'tenant',
      KUSTO_CLIENT_ID: 'client',
      KUSTO_CLIENT_SECRET: SECRETS.KUSTO_CLIENT_SECRET,
      KUSTO_ACCESS_TOKEN: SECRETS.KUSTO_ACCESS_TOKEN,
      TEMPORAL_API_KEY: SECRETS.TEMPORAL_API_KEY,
      OLTP_DATABASE_URL: `postgres://reader:${SECRETS.OLTP_PASSWORD}@127.0.0.1:1/app`,
      SLEEP_BETWEEN_CALLS: '0',
      API_BACKOFF_SCALE: '0.001',
      LEARNSYNC_OUTPUT_DIR: outputDir,
    });
    // A misbehaving upstream (or proxy) that puts every credential it saw into its error body.
    school.inject({
      path: /^\/v2\//,
      times: 1000,
      respond: {
        status: 403,
        body: {
          error: `forbidden; debug: ${Object.values(SECRETS).join(' ')} see https://admin:${URL_PASSWORD}@proxy.internal/x?access_token=${URL_TOKEN}`,
        },
      },
    });
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'secrets',
      activities: createActivities({
        warehouse: db.warehouse,
        oltp: db.oltp,
        outputDir,
        logger,
        config,
        sources: createSourceClients(config),
      }),
      ...bundledWorkerOptions(),
    });
    const workflowId = `secrets-${Date.now()}`;
    const outcome = await worker.runUntil(
      env.client.workflow
        .execute(runPipeline, {
          taskQueue: 'secrets',
          workflowId,
          args: [{ pipeline: 'school-api-nightly', targetDate: '2026-01-12', force: true }],
        })
        .then(
          (r) => JSON.stringify(r),
          (e: unknown) => JSON.stringify({ message: (e as Error).message, cause: String((e as Error).cause) }),
        ),
    );
    // Logged on purpose, as a careless caller would: the masking sits in the logger itself.
    logger.warn(`calling https://admin:${URL_PASSWORD}@proxy.internal with ${SECRETS.GITHUB_TOKEN}`);

    const ledger = await db.warehouse.query<{ error_message: string | null }>(
      'SELECT error_message FROM etl_job_runs WHERE error_message IS NOT NULL',
    );
    expect(ledger.rows.length).toBeGreaterThan(0);
    const ledgerText = ledger.rows.map((r) => r.error_message).join('\n');
    // The upstream's message did reach the ledger — with the secrets masked.
    expect(ledgerText).toContain('forbidden; debug: ***');

    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    // Payloads are bytes: decode them so a secret inside one would be seen too.
    const historyText = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
    );
    expect(historyText).toContain('forbidden; debug: ***');

    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(readFileSync(p, 'utf8'));
      }
    };
    walk(outputDir);

    const haystacks = {
      logs: logLines.join(''),
      ledger: ledgerText,
      history: historyText,
      outcome,
      outputs: files.join('\n'),
    };
    expect(haystacks.logs).toContain('calling https://admin:***@proxy.internal with ***');
    for (const [where, text] of Object.entries(haystacks))
      for (const secret of ALL) expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
  });

  it('masks with one function: URL passwords, token parameters and every registered secret', () => {
    loadConfig({ GITHUB_TOKEN: SECRETS.GITHUB_TOKEN });
    expect(
      redactSecrets(
        `postgres://u:pw-123456@h/db https://tok@h/x?access_token=abc&page=2 Bearer ${SECRETS.GITHUB_TOKEN}`,
      ),
    ).toBe('postgres://u:***@h/db https://***@h/x?access_token=***&page=2 Bearer ***');
  });
});
