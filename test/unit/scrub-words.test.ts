// The error tracker's scrubber masks credentials, not words: a failure such as "the school API
// /oauth/token: no answer" keeps its text, while token/password/Bearer values are still hidden.
import { expect, it } from 'vitest';
import { scrubber } from '../../src/runtime/error-reporting.js';

const scrub = scrubber(['registered-secret-value']);

it('keeps ordinary words after token/secret/password', () => {
  const message = 'the school API /oauth/token: no answer (unreachable after 7 attempts: fetch failed)';
  expect(scrub(message)).toBe(message);
  expect(scrub('refresh the token before it expires')).toBe('refresh the token before it expires');
  expect(scrub('password: required')).toBe('password: required');
});

it('masks credentials in every form', () => {
  expect(scrub('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc')).toBe('Authorization: Bearer ***');
  expect(scrub('token=abc')).toBe('token=***');
  expect(scrub('api_key: k3y-0f-th3-d4y')).toBe('api_key: ***');
  expect(scrub('password hunter2024!')).toBe('password ***');
  expect(scrub('failed with registered-secret-value in it')).not.toContain('registered-secret-value');
});
