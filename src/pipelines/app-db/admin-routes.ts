// The seed's admin endpoints, as a Fastify plugin the HTTP server mounts:
//   GET  /admin/bigquery/sync/status   per-table sync state + the running manual/table syncs
//   POST /admin/bigquery/sync/manual   starts a full sync of every table
//   POST /admin/bigquery/sync/tables   body: JSON array of table names; unknown names → 400 naming them
//   GET  /admin/bigquery/tables        the tables configured for sync
// Authentication is the caller's preHandler (bearer tokens). Triggers start Temporal workflows with
// deterministic ids; while one runs, a second trigger answers 409 with the running workflow's id
// instead of starting another. Everything it needs is injected, so it holds no client of its own.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { PipelineRunInput } from '../types.js';
import { APP_DB_FULL, appDbTablesDefinition, appDbFull } from './definition.js';
import { APP_DB_TABLES, unknownAppDbTables } from './definition.js';

export const MANUAL_SYNC_WORKFLOW_ID = 'learnsync-app-db-manual';
export const TABLES_SYNC_WORKFLOW_ID = 'learnsync-app-db-tables';
const MAX_TABLES_PER_REQUEST = 100;

export interface WorkflowState {
  workflowId: string;
  runId: string;
  status: string;
}

export interface SyncTriggers {
  /** The latest run with this id, or undefined when there has been none. */
  describe(workflowId: string): Promise<WorkflowState | undefined>;
  /** Starts the run; `started: false` when a run with the id is already going. */
  start(workflowId: string, input: PipelineRunInput): Promise<{ started: boolean; workflowId: string; runId?: string }>;
}

export interface AppDbAdminOptions {
  preHandler: preHandlerHookHandler | preHandlerHookHandler[];
  triggers: SyncTriggers;
  /** Per-table state (bq_sync_tracking and friends); see status.ts. */
  readStatus(): Promise<unknown>;
  /** Configured secret and dropped columns, shown by GET /admin/bigquery/tables. */
  privacy?: { secretColumns: Record<string, string[]>; dropColumns: Record<string, string[]> };
}

/** SyncTriggers backed by a Temporal client: runPipeline workflows on the given task queue. */
export function temporalSyncTriggers(client: Client, taskQueue: string): SyncTriggers {
  return {
    async describe(workflowId) {
      try {
        const d = await client.workflow.getHandle(workflowId).describe();
        return { workflowId, runId: d.runId, status: d.status.name };
      } catch (err) {
        if ((err as Error).name === 'WorkflowNotFoundError') return undefined;
        throw err;
      }
    },
    async start(workflowId, input) {
      try {
        const h = await client.workflow.start('runPipeline', { taskQueue, workflowId, args: [input] });
        return { started: true, workflowId, runId: h.firstExecutionRunId };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false, workflowId };
        throw err;
      }
    },
  };
}

/** The serve API's common error shape, { error: { code, message, requestId, ...details } }. */
function sendError(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return reply.code(status).send({ error: { code, message, requestId: req.id, ...extra } });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export async function registerAppDbAdminRoutes(app: FastifyInstance, opts: AppDbAdminOptions): Promise<void> {
  const { triggers } = opts;

  async function trigger(workflowId: string, input: PipelineRunInput, what: string) {
    const running = await triggers.describe(workflowId);
    if (running?.status === 'RUNNING') {
      return {
        code: 409,
        body: {
          started: false,
          workflowId,
          runId: running.runId,
          message: `${what} is already running as ${workflowId}; not starting another`,
        },
      } as const;
    }
    const r = await triggers.start(workflowId, input);
    if (!r.started) {
      const now = await triggers.describe(workflowId);
      return {
        code: 409,
        body: {
          started: false,
          workflowId,
          runId: now?.runId,
          message: `${what} is already running as ${workflowId}; not starting another`,
        },
      } as const;
    }
    return { code: 202, body: { started: true, workflowId, runId: r.runId } } as const;
  }

  /** 202 with the run, or a 409 in the common error shape naming the run already going. */
  function answer(
    req: FastifyRequest,
    reply: FastifyReply,
    r: Awaited<ReturnType<typeof trigger>>,
    extra: Record<string, unknown> = {},
  ) {
    if (r.code === 202) return reply.code(202).send({ ...r.body, ...extra });
    const { message, workflowId, runId } = r.body;
    return sendError(req, reply, 409, 'already_running', message, { workflowId, runId, ...extra });
  }

  app.get('/admin/bigquery/sync/status', { preHandler: opts.preHandler }, async () => {
    const [tables, manual, byTable] = await Promise.all([
      opts.readStatus(),
      triggers.describe(MANUAL_SYNC_WORKFLOW_ID),
      triggers.describe(TABLES_SYNC_WORKFLOW_ID),
    ]);
    return {
      tables,
      runs: { manual: manual ?? null, tables: byTable ?? null },
      schedules: [
        { id: 'learnsync-app-db-incremental', pipeline: 'app-db-incremental', every: '15m' },
        { id: 'learnsync-app-db-full', pipeline: APP_DB_FULL, cron: '0 2 * * *' },
      ],
    };
  });

  app.post('/admin/bigquery/sync/manual', { preHandler: opts.preHandler }, async (req, reply) => {
    // No body, or {}: anything else is a request this endpoint would silently misread.
    const body = req.body as unknown;
    if (body !== undefined && body !== null && !(isPlainObject(body) && Object.keys(body).length === 0)) {
      const unknown = isPlainObject(body) ? Object.keys(body).map((k) => k.slice(0, 100)) : undefined;
      return sendError(
        req,
        reply,
        400,
        'bad_request',
        unknown
          ? `unknown body properties: ${unknown.join(', ')}: this endpoint takes no body (or {})`
          : 'this endpoint takes no body (or {})',
        unknown ? { unknown } : {},
      );
    }
    const r = await trigger(
      MANUAL_SYNC_WORKFLOW_ID,
      { pipeline: APP_DB_FULL, force: true, definition: appDbFull },
      'a manual full sync',
    );
    return answer(req, reply, r);
  });

  app.post('/admin/bigquery/sync/tables', { preHandler: opts.preHandler, bodyLimit: 64 * 1024 }, async (req, reply) => {
    const body = req.body as unknown;
    if (
      !Array.isArray(body) ||
      body.length === 0 ||
      body.length > MAX_TABLES_PER_REQUEST ||
      !body.every((t) => typeof t === 'string')
    ) {
      const unknown = isPlainObject(body) ? Object.keys(body).map((k) => k.slice(0, 100)) : undefined;
      return sendError(
        req,
        reply,
        400,
        'bad_request',
        `the body must be a JSON array of 1 to ${MAX_TABLES_PER_REQUEST} table names, ` +
          'e.g. ["users", "chat_history"]' +
          (unknown?.length ? ` (unknown body properties: ${unknown.join(', ')})` : ''),
        unknown?.length ? { unknown } : {},
      );
    }
    const names = [...new Set(body as string[])];
    const unknown = unknownAppDbTables(names);
    if (unknown.length) {
      return sendError(
        req,
        reply,
        400,
        'bad_request',
        `unknown tables: ${unknown.map((n) => JSON.stringify(n.slice(0, 100))).join(', ')}`,
        { unknown: unknown.map((n) => n.slice(0, 100)) },
      );
    }
    const r = await trigger(
      TABLES_SYNC_WORKFLOW_ID,
      { pipeline: APP_DB_FULL, force: true, definition: appDbTablesDefinition(names) },
      'a table sync',
    );
    return answer(req, reply, r, { tables: names });
  });

  app.get('/admin/bigquery/tables', { preHandler: opts.preHandler }, async () => ({
    tables: APP_DB_TABLES.map((t) => ({
      name: t.name,
      mode: t.mode,
      key: t.key,
      cursorColumn: t.cursorColumn,
      group: t.group,
      secretColumns: opts.privacy?.secretColumns[t.name] ?? [],
      droppedColumns: opts.privacy?.dropColumns[t.name] ?? [],
    })),
  }));
}
