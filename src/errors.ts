// Error classes whose `name` becomes the Temporal failure type. Retry policies list these as
// non-retryable: retrying a wrong password or a malformed config only burns time.
export class ConfigError extends Error {
  override name = 'ConfigError';
}
export class AuthError extends Error {
  override name = 'AuthError';
}
export class ValidationError extends Error {
  override name = 'ValidationError';
}
/** The credentials work but lack a permission or scope (an HTTP 403 without rate-limit signs). */
export class PermissionError extends Error {
  override name = 'PermissionError';
}
// KustoLimitsError (connectors/kusto): the same query over Kusto's result limits fails the same way
// again; the extract narrows its window instead, every other caller fails at once.
export const NON_RETRYABLE_ERROR_TYPES = [
  'ConfigError',
  'AuthError',
  'ValidationError',
  'PermissionError',
  'KustoLimitsError',
] as const;
