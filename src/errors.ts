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
export const NON_RETRYABLE_ERROR_TYPES = ['ConfigError', 'AuthError', 'ValidationError'] as const;
