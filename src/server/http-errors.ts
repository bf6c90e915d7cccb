// Error bodies of the API: { error: { code, message, requestId } }. Messages meant for the caller
// never carry a stack, a URL of an internal system or more than a line; 5xx say only that
// something failed and give the request id to find it in the logs.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError, ValidationError } from '../errors.js';
import { AlreadyRunningError } from '../schedules/start-runs.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Removes anything URL-shaped (cluster, API or database addresses, credentials in them) and keeps one short line. */
export function publicMessage(message: string): string {
  return message
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"')]+/gi, '<url>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<address>')
    .replace(/\b[a-z0-9-]+(\.[a-z0-9-]+)+:\d{2,5}\b/gi, '<address>')
    .replace(/\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(windows\.net|internal|local|corp|cluster\.local)\b/gi, '<host>')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}

export function errorBody(req: FastifyRequest, code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message: publicMessage(message), requestId: req.id, ...extra } };
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  421: 'misdirected_request',
  429: 'rate_limited',
};

export function sendError(
  err: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
  report?: (err: Error, req: FastifyRequest) => void,
): FastifyReply {
  if (err instanceof HttpError) {
    return reply
      .code(err.statusCode)
      .headers(err.headers)
      .send(errorBody(req, err.code, err.message, err.extra));
  }
  if (err instanceof AlreadyRunningError) {
    return reply.code(409).send(errorBody(req, 'already_running', err.message, { workflowId: err.workflowId }));
  }
  if (err instanceof ValidationError || err instanceof ConfigError)
    return reply.code(400).send(errorBody(req, 'bad_request', err.message));
  const status = (err as FastifyError).statusCode;
  if ((err as FastifyError).validation) return reply.code(400).send(errorBody(req, 'bad_request', err.message));
  if (status && status >= 400 && status < 500)
    return reply.code(status).send(errorBody(req, CODES[status] ?? 'bad_request', err.message));
  req.log.error({ err }, 'request failed');
  report?.(err, req);
  return reply
    .code(500)
    .send(
      errorBody(req, 'internal_error', `the request failed; quote request id ${req.id} to find it in the server log`),
    );
}
