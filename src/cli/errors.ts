// How a failed command is told to the person who ran it: one line naming what to fix, never a
// stack trace unless LOG_LEVEL=debug (or trace). Problems the user can fix — bad input, bad
// configuration, a wrong password, a server that is down — exit 2; anything else exits 1.
// Every line passes the one masking function, so no secret reaches the terminal.
import { AuthError, ConfigError, ValidationError } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import { UsageError } from './types.js';

/** Connection failures the user fixes by starting a server or correcting an address. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** The network error code of `err` or of anything in its cause chain (AggregateError included). */
export function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && UNREACHABLE.has(e.code)) return e.code;
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

export interface CliFailure {
  exitCode: number;
  lines: string[];
}

export function describeFailure(command: string, err: unknown, debug: boolean): CliFailure {
  const e = err as Error & { code?: string };
  const message = e?.message || String(err);
  const userError =
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof ValidationError ||
    err instanceof AuthError ||
    (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
  const unreachable = !userError && networkCode(err);
  let line = `learnsync ${command}: ${message.split('\n')[0]}`;
  if (err instanceof AuthError && !/check|set |use /i.test(message))
    line += ' — check the credentials in the configuration (README "Configuration")';
  if (unreachable)
    line +=
      ` — the server is unreachable (${unreachable}): ` +
      'check its address in the configuration and that it is running';
  const lines = [redactSecrets(line)];
  if (!userError && !unreachable && !debug) lines[0] += ' (LOG_LEVEL=debug shows the stack trace)';
  if (debug && e?.stack) lines.push(redactSecrets(e.stack));
  return { exitCode: userError || unreachable ? 2 : 1, lines };
}
