// The one place that hides credentials in text meant for people or for storage: log lines, error
// messages, ledger rows (etl_job_runs.error_message), sync_status.json, CLI output and the
// failures Temporal records in workflow history all pass through redactSecrets. It masks the
// password of any URL (postgres://user:***@host), credential-looking query parameters, and every
// secret value the configuration holds (registered by loadConfig), wherever they appear.
// API URLs themselves are refused at config time when they carry credentials (config.ts).

const secretValues = new Set<string>();

/** Secrets shorter than this are not searched for: masking "1" would mangle every number. */
const MIN_SECRET_LENGTH = 6;

/** Remembers configured secret values (tokens, client secrets, API keys, database passwords). */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const v of values) {
    if (!v || v.length < MIN_SECRET_LENGTH) continue;
    secretValues.add(v);
    // The same secret as it appears inside a URL or a JSON string.
    const encoded = encodeURIComponent(v);
    if (encoded !== v) secretValues.add(encoded);
  }
}

/** Query parameters that carry credentials in the APIs learnsync talks to (and in signed links). */
export const CREDENTIAL_PARAMS =
  /^(access_token|token|api[_-]?key|key|secret|client_secret|password|passwd|sig|signature|code)$/i;

/** postgres://user:secret@host/db → postgres://user:***@host/db; https://tok@host → https://***@host. */
export function maskUrl(url: string): string {
  return url.replace(/(\/\/[^:/@\s]+:)[^@\s/]*@/g, '$1***@').replace(/(\/\/)[^:/@\s]+@/g, '$1***@');
}

const QUERY_CREDENTIAL = /([?&])([A-Za-z_-]+)=([^&#\s"']+)/g;
// A URL password holding a '/' (maskUrl stops at one, not to take a port and path for a password).
const URL_PASSWORD_WITH_SLASH = /(\/\/[^:/@\s]+:)(?!\*\*\*@)[^@\s]*@/g;
// An Authorization value or a key=value credential written into free text (an upstream's error body).
const AUTH_SCHEME = /\b(Bearer|Basic)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{6,}/g;
// `name=value` is an assignment whatever the value; after `:` or a space only a value that looks like
// a credential (8+ characters with a digit or symbol) is one, so "token: no answer" keeps its words.
const CREDENTIAL_WORD = 'password|passwd|secret|client_secret|api[_-]?key|access[_-]?token|token';
const KEYWORD_ASSIGNMENT = new RegExp(
  `\\b(${CREDENTIAL_WORD})(\\s*=\\s*)(?!\\*\\*\\*|\\[redacted\\])[^\\s&"',;]+`,
  'gi',
);
const KEYWORD_CREDENTIAL = new RegExp(
  `\\b(${CREDENTIAL_WORD})(\\s*:\\s*|\\s+)(?!\\*\\*\\*|\\[redacted\\])(?=[^\\s&"',;]*[\\d_\\-.+/=~!])[^\\s&"',;]{8,}`,
  'gi',
);

/**
 * `text` with every known secret, URL password, credential query parameter, Authorization value
 * and key=value credential replaced by ***: the one masking function (logs, ledger, alerts,
 * sync_status, `status`, error reports and workflow failures all use it).
 */
export function redactSecrets(text: string): string {
  let out = maskUrl(text)
    .replace(URL_PASSWORD_WITH_SLASH, '$1***@')
    .replace(QUERY_CREDENTIAL, (m, sep: string, name: string) =>
      CREDENTIAL_PARAMS.test(name) ? `${sep}${name}=***` : m,
    )
    .replace(AUTH_SCHEME, '$1 ***')
    .replace(KEYWORD_ASSIGNMENT, '$1$2***')
    .replace(KEYWORD_CREDENTIAL, '$1$2***');
  for (const s of secretValues) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** The same error with its message (and stack) redacted in place, so every later reader sees the masked text. */
export function redactError<T>(err: T): T {
  if (err instanceof Error) {
    const clean = redactSecrets(err.message);
    if (clean !== err.message) {
      err.message = clean;
      if (err.stack) err.stack = redactSecrets(err.stack);
    }
    if (err.cause) redactError(err.cause);
  }
  return err;
}

/** Whether a URL carries credentials: user info, or a credential query parameter. */
export function urlCredentials(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.username || u.password) return 'user:password@ in the URL';
  for (const name of u.searchParams.keys()) if (CREDENTIAL_PARAMS.test(name)) return `?${name}= in the URL`;
  return undefined;
}
