// Every node attempt emits OpenLineage RunEvents from the worker's activity interceptor: a real
// runPipeline on the time-skipping server, with the learning-sample DAG's node ids (so the family's
// declared lineage is used), events sent to the sample stack's receiver and to a file, and each
// event loaded by the official openlineage-python client (its generated classes and Serde).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { learningSample } from '../../src/pipelines/learning-sample/definition.js';
import { listPipelines } from '../../src/pipelines/registry.js';
import type { NodeResult, PipelineDefinition } from '../../src/pipelines/types.js';
import {
  buildRunEvent,
  openLineageConfig,
  openLineageInterceptor,
  openLineageSink,
} from '../../src/runtime/openlineage.js';
import { lineageOfInput } from '../../src/stack/lineage.js';
import { startLineageReceiver, type LineageReceiver } from '../../src/stack/openlineage-receiver.js';
import { runPipeline } from '../../src/workflows/run-dag.js';
import { bundledWorkerOptions, createTimeSkippingEnv, projectRoot, Worker } from '../support/temporal.js';

const PYTHON = path.join(projectRoot, '.tools', 'ol-venv', 'bin', 'python');
const PARSER = path.join(projectRoot, 'test', 'support', 'openlineage_parse.py');

let env: TestWorkflowEnvironment;
let receiver: LineageReceiver;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  receiver = await startLineageReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await env?.teardown();
});

// The sample DAG with the last node failing for good (its attempt gets a FAIL event).
const def: PipelineDefinition = {
  ...learningSample,
  name: 'learning-sample',
  nodes: learningSample.nodes.map((n) => ({ ...n, retry: { maximumAttempts: 1 } })),
};
const ROWS: Record<string, NodeResult> = {
  extractSampleExams: { rows: 40, rejected: 3 },
  extractSampleUserEmails: { rows: 25 },
  resolveSampleIdentities: { rows: 37 },
  aggregateSampleDaily: { rows: 6 },
};

describe('OpenLineage events', () => {
  it('START then COMPLETE or FAIL per node attempt, with declared datasets, schema and row counts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ol-'));
    const file = path.join(dir, 'events.jsonl');
    const config = openLineageConfig({ OPENLINEAGE_URL: receiver.url, OPENLINEAGE_FILE: file })!;
    const warnings: string[] = [];
    const activities = Object.fromEntries(
      def.nodes.map((n) => [
        n.activity,
        async (): Promise<NodeResult> => {
          const r = ROWS[n.activity];
          if (!r) throw ApplicationFailure.nonRetryable('dashboard directory is read-only', 'PermissionError');
          return r;
        },
      ]),
    );
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'ol',
      activities,
      interceptors: {
        activity: [
          openLineageInterceptor(
            openLineageSink(config, (m) => warnings.push(m)),
            config.namespace,
            lineageOfInput,
          ),
        ],
      },
      ...bundledWorkerOptions(),
    });
    // A plain client: waiting on it does not skip time, so a node slowed down by a busy machine
    // cannot be timed out by a time jump (env.client's result() unlocks time skipping).
    const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
    const handle = await client.workflow.start(runPipeline, {
      taskQueue: 'ol',
      workflowId: 'ol-wf',
      args: [{ pipeline: def.name, definition: def, targetDate: '2026-01-05' }],
    });
    await worker.runUntil(handle.result().catch(() => undefined));
    expect(warnings).toEqual([]);

    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(10); // 5 nodes × (START + COMPLETE|FAIL)
    // Parallel nodes emit concurrently: the receiver and the file may see them in different orders.
    expect(receiver.events.map((e) => JSON.stringify(e)).sort()).toEqual([...lines].sort());
    const events = lines.map((l) => JSON.parse(l));
    const of = (job: string, type: string) => events.find((e) => e.job.name === job && e.eventType === type);
    const extract = of('learning-sample.extract_exam_results', 'COMPLETE');
    expect(extract.inputs.map((d: { name: string }) => d.name)).toEqual(['sample_source.exam_results']);
    expect(extract.outputs[0].name).toBe('staging.sample_exam_results');
    expect(extract.outputs[0].outputFacets.outputStatistics.rowCount).toBe(37);
    expect(of('learning-sample.extract_exam_results', 'START').run.runId).toBe(extract.run.runId);
    const fail = of('learning-sample.load_dashboard', 'FAIL');
    expect(fail.run.facets.errorMessage.message).toContain('read-only');
    expect(of('learning-sample.load_dashboard', 'COMPLETE')).toBeUndefined();
    const workflowRunId = (await handle.describe()).runId;
    expect(new Set(events.map((e) => e.run.facets.parent.run.runId))).toEqual(new Set([workflowRunId]));

    if (!existsSync(PYTHON)) {
      console.log(`SKIPPED the openlineage-python check: ${PYTHON} is absent (scripts/provision.sh installs it)`);
      return;
    }
    const py = spawnSync(PYTHON, [PARSER, file], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    const parsed = py.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed.map((p) => p.type)).toEqual(events.map((e) => e.eventType));
    expect(parsed.find((p) => p.job.endsWith('extract_exam_results') && p.type === 'COMPLETE').outputs).toEqual([
      ['staging.sample_exam_results', 37],
    ]);
    expect(parsed.find((p) => p.type === 'FAIL').error).toContain('read-only');
  });

  it('every declared node lineage makes events the official client accepts, schemas included', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'ol-')), 'all.jsonl');
    const events = listPipelines().flatMap((p) =>
      p.nodes.flatMap((n) => {
        const base = {
          namespace: 'learnsync',
          node: { pipeline: p.name, nodeId: n.id, force: false, params: {} },
          lineage: lineageOfInput({ pipeline: p.name, nodeId: n.id, force: false, params: {} }),
          workflowId: `wf-${p.name}`,
          workflowRunId: `run-${p.name}`,
          attempt: 1,
        };
        return [
          buildRunEvent({ ...base, eventType: 'START' }),
          buildRunEvent({ ...base, eventType: 'COMPLETE', result: { rows: 10, rejected: 1 } }),
        ];
      }),
    );
    // Every node declares at least one output, and the dimensions carry their stage columns as schema.
    expect(events.filter((e) => e.outputs.length === 0)).toEqual([]);
    const dim = events.find((e) => e.job.name === 'warehouse-dimensions.sync_dim_tenant')!;
    expect(dim.inputs.map((d) => d.name)).toEqual(['platform.tenants']);
    expect(dim.outputs[0]!.facets.schema?.fields.map((f) => f.name)).toContain('tenant_name');
    await writeFile(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    if (!existsSync(PYTHON)) {
      console.log(`SKIPPED the openlineage-python check: ${PYTHON} is absent (scripts/provision.sh installs it)`);
      return;
    }
    const py = spawnSync(PYTHON, [PARSER, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(py.stderr).toBe('');
    const parsed = py.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed).toHaveLength(events.length);
    expect(parsed.reduce((n, p) => n + p.schemaFields, 0)).toBeGreaterThan(100);
  });

  it('an unreachable endpoint costs a warning, never the node', async () => {
    const closed = await startLineageReceiver();
    await closed.close();
    const warnings: string[] = [];
    const sink = openLineageSink(
      openLineageConfig({ OPENLINEAGE_URL: closed.url, OPENLINEAGE_TIMEOUT_MS: '500' })!,
      (m) => warnings.push(m),
    );
    await expect(sink.emit({} as never)).resolves.toBeUndefined();
    expect(warnings.join()).toMatch(/OpenLineage endpoint http:\/\/127\.0\.0\.1:\d+: fetch failed/);
  });

  it('refuses a bad URL with the variable named, and stays off when neither is set', () => {
    expect(() => openLineageConfig({ OPENLINEAGE_URL: 'not a url' })).toThrow(/OPENLINEAGE_URL must be an http/);
    expect(openLineageConfig({})).toBeUndefined();
  });
});
