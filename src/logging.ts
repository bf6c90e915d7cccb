import { pino, type Logger } from 'pino';

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

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'learnsync',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for messages meant for people. */
export function maskUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
