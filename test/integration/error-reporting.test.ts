// Error reporting against a local fake Bugsnag collector: a failed activity arrives with its
// context (pipeline, node, target date, attempt, workflow id) and without any secret of the
// configuration, even when the error message carried one; a server error arrives with its
// request id, and the caller's response names neither.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { activityInterceptors } from '../../src/runtime/activity-interceptor.js';
import { createErrorReporter } from '../../src/runtime/error-reporting.js';
import { startServer } from '../../src/server/serve.js';
import { createToken } from '../../src/server/tokens.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../support/temporal.js';

const GITHUB_TOKEN = 'planted-github-token-value-1234567890abcdef';
const DB_PASSWORD = 'pl4nted-db-pa55word';
const API_KEY = '0123456789abcdef0123456789abcdef';
let collector: http.Server;
let received: Array<{ headers: http.IncomingHttpHeaders; raw: string }> = [];
let env: TestWorkflowEnvironment;
let db: TestDatabases;
let config: Config;

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw });
      res.writeHead(200).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/notify`;
  config = loadConfig({
    ERROR_REPORTING_API_KEY: API_KEY,
    ERROR_REPORTING_ENDPOINT: endpoint,
    ERROR_REPORTING_ENVIRONMENT: 'test',
    GITHUB_TOKEN,
    GITHUB_ORG: 'acme',
    WAREHOUSE_DATABASE_URL: `postgres://etl:${DB_PASSWORD}@db.internal:5432/wh`,
  });
  [env, db] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
});
afterAll(async () => {
  await env?.teardown();
  await db?.close();
  collector?.close();
});

it('reports a failed activity with its context and no secret', async () => {
  const reporter = createErrorReporter(config, createLogger({ level: 'silent' }), 'worker');
  const def: PipelineDefinition = {
    name: 'report-demo',
    kind: 'nightly',
    description: '',
    nodes: [{ id: 'extract_things', activity: 'boom', retry: { maximumAttempts: 1 } }],
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'errors',
    activities: {
      boom: async () => {
        throw new Error(
          `GET https://x-access-token:${GITHUB_TOKEN}@api.github.com/orgs/acme failed; password=${DB_PASSWORD}`,
        );
      },
    },
    interceptors: { activity: [activityInterceptors(reporter)] },
    ...bundledWorkerOptions(),
  });
  await expect(
    worker.runUntil(
      env.client.workflow.execute(runPipeline, {
        taskQueue: 'errors',
        workflowId: 'report-demo-1',
        args: [{ pipeline: def.name, targetDate: '2026-02-03', definition: def }],
      }),
    ),
  ).rejects.toThrow();
  await reporter.flush();
  expect(received).toHaveLength(1);
  const { headers, raw } = received[0]!;
  expect(headers['bugsnag-api-key']).toBe(API_KEY);
  expect(raw).not.toContain(GITHUB_TOKEN);
  expect(raw).not.toContain(DB_PASSWORD);
  const event = JSON.parse(raw).events[0];
  expect(event.exceptions[0].message).toMatch(/x-access-token:\*\*\*@api\.github\.com.*password=(\*\*\*|\[redacted\])/);
  expect(event.metaData.learnsync).toMatchObject({
    pipeline: 'report-demo',
    node: 'extract_things',
    targetDate: '2026-02-03',
    attempt: 1,
    workflowId: 'report-demo-1',
    activity: 'boom',
  });
  expect(event.context).toBe('report-demo / extract_things');
  expect(event.app.releaseStage).toBe('test');
});

it('reports a server error with its request id; the caller sees only the id', async () => {
  received = [];
  const server = await startServer(
    {
      config,
      logger: createLogger({ level: 'silent' }),
      warehouse: db.warehouse,
      temporal: () => Promise.reject(new Error(`Temporal refused token ${GITHUB_TOKEN}`)),
    },
    { host: '127.0.0.1', port: 0 },
  );
  const { token } = await createToken(db.warehouse, 'err', 'read');
  const res = await fetch(`${server.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(500);
  const body = await res.text();
  expect(body).not.toContain(GITHUB_TOKEN);
  const requestId = res.headers.get('x-request-id');
  await server.close(); // flushes the reporter
  expect(received).toHaveLength(1);
  expect(received[0]!.raw).not.toContain(GITHUB_TOKEN);
  const event = JSON.parse(received[0]!.raw).events[0];
  expect(event.metaData.learnsync).toMatchObject({ route: '/api/runs', method: 'GET', requestId });
});
