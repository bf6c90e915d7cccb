// One small interface for error tracking: failed activities (worker) and server errors (serve)
// go to Bugsnag (or a compatible collector at ERROR_REPORTING_ENDPOINT) with their context —
// pipeline, node, target date, attempt, workflow id — after every secret of the configuration
// and every credential inside a URL has been scrubbed. Without ERROR_REPORTING_API_KEY errors
// are only logged.
import { createRequire } from 'node:module';
import type { Event } from '@bugsnag/js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { redactSecrets } from '../secrets.js';

// A CommonJS package: loaded as such so its static client type is the one Node gives at runtime.
const Bugsnag = createRequire(import.meta.url)('@bugsnag/js') as (typeof import('@bugsnag/js'))['default'];

export type ErrorContext = Record<string, string | number | boolean | null | undefined>;

/** How an event reads in the tracker: its context line and the metadata tab holding the context. */
export interface ReportShape {
  context?: string;
  section?: string;
}

export interface ErrorReporter {
  report(err: unknown, context: ErrorContext, shape?: ReportShape): void;
  /** Resolves when everything reported so far was delivered (or failed to be). */
  flush(): Promise<void>;
}

export const NO_ERROR_REPORTER: ErrorReporter = { report: () => {}, flush: async () => {} };

/** The secret values of a configuration: anything that must never leave the process. */
export function secretsOf(config: Config): string[] {
  const candidates = [
    config.temporal.apiKey,
    config.github.token,
    config.schoolApi.clientSecret,
    config.kusto.auth.kind === 'app-key' ? config.kusto.auth.clientSecret : undefined,
    config.kusto.auth.kind === 'access-token' ? config.kusto.auth.accessToken : undefined,
    config.errorReporting.apiKey,
    ...config.alerting.webhooks.map((w) => w.url),
    ...[config.postgres.warehouseUrl, config.postgres.oltpUrl].map((u) => /\/\/[^:/@]+:([^@]+)@/.exec(u ?? '')?.[1]),
  ];
  return candidates.filter((s): s is string => typeof s === 'string' && s.length >= 6);
}

export function scrubber(secrets: string[]): (text: string) => string {
  const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  return (text) => {
    // The project's one masking function first (registered secrets, URL passwords, credential parameters).
    let out = redactSecrets(text).replace(/(\/\/[^:/@\s]+:)[^@\s]*@/g, '$1***@');
    for (const s of sorted) out = out.split(s).join('[redacted]');
    // `name=value` is an assignment whatever the value; after `:` or a space only a value that looks
    // like a credential (8+ characters with a digit or symbol) is one — "token: no answer" stays.
    return out
      .replace(/\b(Bearer|token|apikey|api_key|password|secret)\b(\s*=\s*)(?!\*\*\*)[^\s&"'@]+/gi, '$1$2[redacted]')
      .replace(
        /\b(Bearer|token|apikey|api_key|password|secret)\b(\s*:\s*|\s+)(?!\*\*\*)(?=[^\s&"'@]*[\d_\-.+/=~])[^\s&"'@]{8,}/gi,
        '$1$2[redacted]',
      );
  };
}

export function createErrorReporter(config: Config, logger: Logger, component: 'worker' | 'serve'): ErrorReporter {
  const scrub = scrubber(secretsOf(config));
  // The app-db family's BUGSNAG_API_KEY / BUGSNAG_NOTIFY_URL (seed 002's names) serve as a fallback.
  const tracker = config.appDb?.errorTracker;
  const fallback = tracker?.kind === 'bugsnag' ? tracker : undefined;
  const apiKey = config.errorReporting.apiKey ?? fallback?.apiKey;
  const endpoint = config.errorReporting.endpoint ?? fallback?.notifyUrl;
  const { environment } = config.errorReporting;
  if (!apiKey) {
    return {
      report: (err, context) =>
        logger.error(
          { err: scrub((err as Error)?.message ?? String(err)), ...context },
          'error (no tracker configured)',
        ),
      flush: async () => {},
    };
  }
  const client = Bugsnag.createClient({
    apiKey,
    ...(endpoint ? { endpoints: { notify: endpoint, sessions: endpoint } } : {}),
    releaseStage: environment,
    appType: component,
    autoDetectErrors: false,
    autoTrackSessions: false,
    sendCode: false,
    logger: null,
    redactedKeys: [/token/i, /secret/i, /password/i, /authorization/i, /api.?key/i, /cookie/i],
  });
  const pending = new Set<Promise<void>>();
  return {
    report(err, context, shape = {}) {
      const e = err instanceof Error ? err : new Error(String(err));
      const clean = new Error(scrub(e.message));
      clean.name = e.name;
      clean.stack = scrub(e.stack ?? '');
      const meta = Object.fromEntries(
        Object.entries(context).map(([k, v]) => [k, typeof v === 'string' ? scrub(v) : v]),
      );
      const delivered = new Promise<void>((resolve) => {
        client.notify(
          clean,
          (event: Event) => {
            event.context =
              shape.context ?? ([context.pipeline, context.node].filter(Boolean).join(' / ') || component);
            event.addMetadata(shape.section ?? 'learnsync', meta);
            const where = String(context.node ?? context.route ?? '');
            event.groupingHash = `${component}:${String(context.pipeline ?? '')}:${where}:${e.name}`;
          },
          () => resolve(),
        );
      });
      pending.add(delivered);
      void delivered.finally(() => pending.delete(delivered));
    },
    flush: async () => {
      await Promise.all([...pending]);
    },
  };
}
