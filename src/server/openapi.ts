// /openapi.json, built from the JSON schemas every route already declares for validation, so the
// document cannot drift from what the server accepts.
import type { FastifySchema } from 'fastify';
import type { Access } from './auth.js';

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    tags?: string[];
    /** Left out of /openapi.json (the page shell and its scripts). */
    hide?: boolean;
  }
}

export interface RouteRecord {
  method: string | string[];
  url: string;
  schema?: FastifySchema;
  access?: Access;
  pattern?: RegExp;
}

type JsonSchema = { properties?: Record<string, unknown>; required?: string[] } & Record<string, unknown>;

function parameters(schema: JsonSchema | undefined, where: 'path' | 'query') {
  return Object.entries(schema?.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (schema?.required ?? []).includes(name),
    schema: s,
  }));
}

export function buildOpenApi(routes: RouteRecord[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.schema?.hide) continue;
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      const s = r.schema ?? {};
      (paths[path] ??= {})[method.toLowerCase()] = {
        summary: s.summary,
        tags: s.tags,
        security: r.access === 'open' ? [] : [{ bearer: [] }],
        'x-learnsync-role': r.access ?? 'admin',
        parameters: [
          ...parameters(s.params as JsonSchema, 'path'),
          ...parameters(s.querystring as JsonSchema, 'query'),
        ],
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
        responses: Object.fromEntries(
          Object.entries((s.response as Record<string, unknown>) ?? { 200: {} }).map(([code, schema]) => [
            code,
            { description: code, content: { 'application/json': { schema } } },
          ]),
        ),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'learnsync',
      version: '1',
      description:
        'Runs, pipelines, schedules, sync status and learner exam histories. Bearer tokens: `learnsync tokens create`.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
