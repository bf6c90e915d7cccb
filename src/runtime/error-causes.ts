// What caused a failure, decided once for every activity: an outage of the warehouse database, of
// the network or of a source (retry until the outage window closes), or something else. The label
// goes into the Temporal failure and the ledger row, so both say "database unavailable: …" with
// the underlying error instead of a guess.
export type OutageKind = 'database' | 'network' | 'source' | 'timeout';

// Socket-level failures: the other end is down, restarting or unreachable.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// node-postgres's own messages for a connection that went away (it sets no SQLSTATE for them).
const PG_CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to administrator command/i,
];

/** SQLSTATEs a retry fixes: connection exceptions (08), shutdowns (57P01-03), too many connections, deadlocks. */
function pgCodeIsTransient(code: string): boolean {
  return (
    code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '40001', '40P01', '55P03', '57014'].includes(code)
  );
}

interface ErrorShape {
  name?: string;
  message?: string;
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  kind?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The outage behind `err` (looking through causes and AggregateErrors), or undefined when it is no outage. */
export function outageKind(err: unknown, depth = 0): OutageKind | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as ErrorShape;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = e.message ?? '';
  if (code && /^[0-9A-Z]{5}$/.test(code) && pgCodeIsTransient(code)) return 'database';
  if (PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return 'database';
  if (code && NETWORK_CODES.has(code)) return 'network';
  if (e.name === 'KustoQueryError' && (e.kind === 'throttled' || e.kind === 'transient')) return 'source';
  const status = Number(e.status ?? e.statusCode);
  if (Number.isInteger(status) && (status >= 500 || status === 429 || status === 408)) return 'source';
  if (e.name === 'TimeoutError' || /\btimed? ?out\b/i.test(message)) return 'timeout';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const kind = outageKind(inner, depth + 1);
      if (kind) return kind;
    }
  }
  return outageKind(e.cause, depth + 1);
}

const LABELS: Record<OutageKind, string> = {
  database: 'database unavailable',
  network: 'connection failed',
  source: 'source unavailable',
  timeout: 'timed out',
};

/** "database unavailable: Connection terminated unexpectedly" — the cause, then the underlying error. */
export function describeFailure(err: unknown): string {
  const message = messageOf(err);
  const kind = outageKind(err);
  if (!kind || message.startsWith(LABELS[kind])) return message;
  return `${LABELS[kind]}: ${message}`;
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return messageOf(err.errors[0]);
  const e = err as ErrorShape | undefined;
  return e?.message || String(err);
}

/** The outage kind a describeFailure message names ("source unavailable: …" → source), for readers
 * of a recorded failure (Temporal's pending-activity info) that only have its text. */
export function outageKindOfMessage(message: string): OutageKind | undefined {
  return (Object.keys(LABELS) as OutageKind[]).find((k) => message.startsWith(`${LABELS[k]}:`));
}
