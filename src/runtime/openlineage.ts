// OpenLineage for every node run: the worker's activity interceptor emits a RunEvent when a node
// attempt starts and one when it completes or fails, naming the datasets the node declares
// (pipelines/<family>/lineage.ts) with schema and row-count facets, to an HTTP endpoint (Marquez's
// /api/v1/lineage) or a JSON-lines file. Emission never fails or slows a node past a short timeout:
// lineage is a report about the run, not part of it. Workflow code never sees any of this.
import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { z } from 'zod';
import type { DatasetRef, NodeLineage } from '../pipelines/lineage-types.js';
import type { NodeInput, NodeResult } from '../pipelines/types.js';

export const PRODUCER = 'https://github.com/learnsync/learnsync';
const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
/** A facet's schema URL, as the spec's published facet versions spell it. */
const FACET = (name: string, version: string) =>
  `https://openlineage.io/spec/facets/${version}/${name}.json#/$defs/${name}`;

const envSchema = z.object({
  OPENLINEAGE_URL: z
    .string()
    .url('OPENLINEAGE_URL must be an http(s) URL, e.g. http://localhost:5000 (events go to its /api/v1/lineage)')
    .optional(),
  OPENLINEAGE_FILE: z.string().min(1).optional(),
  OPENLINEAGE_NAMESPACE: z.string().min(1).default('learnsync'),
  OPENLINEAGE_API_KEY: z.string().min(1).optional(),
  OPENLINEAGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(3000),
});

export interface OpenLineageConfig {
  url?: string;
  file?: string;
  namespace: string;
  apiKey?: string;
  timeoutMs: number;
}

/** OPENLINEAGE_URL and/or OPENLINEAGE_FILE turn emission on; neither set → undefined (off). */
export function openLineageConfig(env: NodeJS.ProcessEnv): OpenLineageConfig | undefined {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new Error(`OpenLineage settings: ${parsed.error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  if (!e.OPENLINEAGE_URL && !e.OPENLINEAGE_FILE) return undefined;
  return {
    url: e.OPENLINEAGE_URL?.replace(/\/+$/, ''),
    file: e.OPENLINEAGE_FILE,
    namespace: e.OPENLINEAGE_NAMESPACE,
    apiKey: e.OPENLINEAGE_API_KEY,
    timeoutMs: e.OPENLINEAGE_TIMEOUT_MS,
  };
}

/** A name-based (v5-style) UUID: the same node attempt always gets the same run id. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export type EventType = 'START' | 'COMPLETE' | 'FAIL';
export interface RunEventInput {
  eventType: EventType;
  namespace: string;
  node: NodeInput;
  lineage: NodeLineage;
  /** Temporal's ids of the workflow run and the attempt number. */
  workflowId: string;
  workflowRunId: string;
  attempt: number;
  result?: NodeResult;
  error?: Error;
  now?: Date;
}

const facetBase = (name: string, version: string) => ({ _producer: PRODUCER, _schemaURL: FACET(name, version) });

function dataset(d: DatasetRef) {
  return {
    namespace: d.namespace,
    name: d.name,
    facets: d.fields?.length
      ? {
          schema: {
            ...facetBase('SchemaDatasetFacet', '1-2-0'),
            fields: d.fields.map((f) => ({ name: f.name, ...(f.type && { type: f.type }) })),
          },
        }
      : {},
  };
}

/** One OpenLineage RunEvent (spec 2-0-2) for a node attempt. */
export function buildRunEvent(i: RunEventInput) {
  const rowsWritten = i.result ? Math.max(0, (i.result.rows ?? 0) - (i.result.rejected ?? 0)) : undefined;
  const workflowUuid = /^[0-9a-f-]{36}$/i.test(i.workflowRunId) ? i.workflowRunId : stableUuid(i.workflowRunId);
  return {
    eventType: i.eventType,
    eventTime: (i.now ?? new Date()).toISOString(),
    producer: PRODUCER,
    schemaURL: SPEC,
    run: {
      runId: stableUuid(`${i.workflowRunId}/${i.node.nodeId}/${i.attempt}`),
      facets: {
        parent: {
          ...facetBase('ParentRunFacet', '1-2-0'),
          run: { runId: workflowUuid },
          job: { namespace: i.namespace, name: i.node.pipeline },
        },
        ...(i.error && {
          errorMessage: {
            ...facetBase('ErrorMessageRunFacet', '1-0-1'),
            message: i.error.message,
            programmingLanguage: 'TypeScript',
          },
        }),
      },
    },
    job: { namespace: i.namespace, name: `${i.node.pipeline}.${i.node.nodeId}`, facets: {} },
    inputs: i.lineage.inputs.map((d) => ({ ...dataset(d), inputFacets: {} })),
    outputs: i.lineage.outputs.map((d) => ({
      ...dataset(d),
      outputFacets:
        i.eventType === 'COMPLETE' && rowsWritten !== undefined && !i.result?.skipped
          ? {
              // A node writing several datasets reports its total against each: the ledger counts per node.
              outputStatistics: { ...facetBase('OutputStatisticsOutputDatasetFacet', '1-0-2'), rowCount: rowsWritten },
            }
          : {},
    })),
  };
}
export type RunEvent = ReturnType<typeof buildRunEvent>;

export interface LineageSink {
  emit(event: RunEvent): Promise<void>;
}

/** Sends to the configured endpoint and/or appends to the file; failures go to `warn`, never up. */
export function openLineageSink(config: OpenLineageConfig, warn: (message: string) => void): LineageSink {
  return {
    async emit(event) {
      const line = JSON.stringify(event);
      await Promise.all([
        config.file &&
          mkdir(path.dirname(config.file), { recursive: true })
            .then(() => appendFile(config.file!, line + '\n', { mode: 0o600 }))
            .catch((err: Error) => warn(`OpenLineage file ${config.file}: ${err.message}`)),
        config.url &&
          fetch(`${config.url}/api/v1/lineage`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(config.apiKey && { authorization: `Bearer ${config.apiKey}` }),
            },
            body: line,
            signal: AbortSignal.timeout(config.timeoutMs),
          })
            .then((res) => {
              if (!res.ok) warn(`OpenLineage endpoint ${config.url} answered HTTP ${res.status}`);
            })
            .catch((err: Error) => warn(`OpenLineage endpoint ${config.url}: ${err.message}`)),
      ]);
    },
  };
}

const isNodeInput = (v: unknown): v is NodeInput =>
  typeof v === 'object' && v !== null && 'nodeId' in v && 'pipeline' in v;

/** The activity interceptor: START before the node attempt, COMPLETE or FAIL after it. */
export function openLineageInterceptor(
  sink: LineageSink,
  namespace: string,
  lineageOf: (node: NodeInput) => NodeLineage,
): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const node = input.args[0];
        if (!isNodeInput(node)) return next(input);
        const info = ctx.info;
        const base = {
          namespace,
          node,
          lineage: lineageOf(node),
          workflowId: info.workflowExecution?.workflowId ?? info.activityId,
          workflowRunId: info.workflowExecution?.runId ?? info.activityId,
          attempt: info.attempt,
        };
        await sink.emit(buildRunEvent({ ...base, eventType: 'START' }));
        try {
          const result = (await next(input)) as NodeResult;
          await sink.emit(buildRunEvent({ ...base, eventType: 'COMPLETE', result }));
          return result;
        } catch (err) {
          await sink.emit(buildRunEvent({ ...base, eventType: 'FAIL', error: err as Error }));
          throw err;
        }
      },
    };
    return { inbound };
  };
}
