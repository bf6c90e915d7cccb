import { pino, type DestinationStream, type Logger } from 'pino';
import { redactSecrets } from './secrets.js';

export { maskUrl } from './secrets.js';

// Anything that can carry a credential is censored wherever it appears in a log object.
export const REDACT_PATHS = [
  'password',
  'token',
  'accessToken',
  'apiKey',
  '*.apiKey',
  'clientSecret',
  'secret',
  'authorization',
  'connectionString',
  'databaseUrl',
  'hashKey',
  '*.hashKey',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.clientSecret',
  '*.secret',
  '*.authorization',
  '*.connectionString',
  '*.databaseUrl',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(opts: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const options = {
    name: opts.name ?? 'learnsync',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Paths cover known fields; the finished line also passes the one masking function, so a
    // secret inside an error message or a URL in free text is hidden too.
    hooks: { streamWrite: redactSecrets },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
