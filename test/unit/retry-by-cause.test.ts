// Retry by cause: which failures are outages (retried for the outage window), which never retry,
// and the activity options every retry class gets (a heartbeat timeout of tens of seconds).
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigError, ValidationError } from '../../src/errors.js';
import { KustoLimitsError, KustoQueryError } from '../../src/connectors/kusto/errors.js';
import { failureForRetryPolicy, UNKNOWN_ERROR_MAX_ATTEMPTS } from '../../src/runtime/activity-guard.js';
import { describeFailure, outageKind } from '../../src/runtime/error-causes.js';
import { activityOptionsFor, RETRY_CLASS_TIMES } from '../../src/workflows/retry-classes.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('outageKind', () => {
  it.each([
    [withCode('connect ECONNREFUSED 127.0.0.1:15432', 'ECONNREFUSED'), 'network'],
    [withCode('read ECONNRESET', 'ECONNRESET'), 'network'],
    [withCode('terminating connection due to administrator command', '57P01'), 'database'],
    [withCode('the database system is starting up', '57P03'), 'database'],
    [withCode('connection failure', '08006'), 'database'],
    [new Error('Connection terminated unexpectedly'), 'database'],
    [Object.assign(new Error('Bad Gateway'), { status: 502 }), 'source'],
    [new KustoQueryError('throttled', 'throttled'), 'source'],
    [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'timeout'],
    [new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''), 'network'],
    [new Error('wrapped', { cause: withCode('x', '57P01') }), 'database'],
  ])('%s is a %s outage', (err, kind) => {
    expect(outageKind(err)).toBe(kind);
  });

  it.each([
    new Error('undefined is not a function'),
    withCode('column "x" does not exist', '42703'),
    Object.assign(new Error('Not Found'), { status: 404 }),
    new ConfigError('WAREHOUSE_DATABASE_URL is not set'),
  ])('%s is no outage', (err) => {
    expect(outageKind(err)).toBeUndefined();
  });

  it('names the cause before the underlying error', () => {
    expect(describeFailure(withCode('terminating connection due to administrator command', '57P01'))).toBe(
      'database unavailable: terminating connection due to administrator command',
    );
    expect(describeFailure(new Error('plain'))).toBe('plain');
  });
});

describe('failureForRetryPolicy', () => {
  it('keeps config, auth and validation errors as they are (the policy lists them as non-retryable)', () => {
    for (const err of [new ConfigError('c'), new AuthError('a'), new ValidationError('v')])
      expect(failureForRetryPolicy(err, 1)).toBe(err);
  });

  it('makes an outage a retryable failure that names its cause, at any attempt', () => {
    const f = failureForRetryPolicy(withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 400);
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect((f as ApplicationFailure).nonRetryable).toBe(false);
    expect((f as ApplicationFailure).message).toBe('connection failed: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('never retries a KustoLimitsError: the same query goes over the same limits again', () => {
    const limits = new KustoLimitsError('Kusto query q: E_QUERY_RESULT_SET_TOO_LARGE', 'LimitsExceeded');
    // Kept as it is at the first attempt: its type is in every retry policy's non-retryable list.
    expect(failureForRetryPolicy(limits, 1)).toBe(limits);
    expect(outageKind(limits)).toBeUndefined();
    const o = activityOptionsFor({ id: 'n', activity: 'a' }, 30);
    expect(o.retry?.nonRetryableErrorTypes).toContain(limits.name);
  });

  it('retries an error of unknown cause a few times, then gives up', () => {
    const bug = new TypeError('x is undefined');
    expect(failureForRetryPolicy(bug, UNKNOWN_ERROR_MAX_ATTEMPTS - 1)).toBe(bug);
    const last = failureForRetryPolicy(bug, UNKNOWN_ERROR_MAX_ATTEMPTS) as ApplicationFailure;
    expect(last.nonRetryable).toBe(true);
    expect(last.type).toBe('TypeError');
    expect(last.message).toMatch(/x is undefined \(not an outage: gave up after 5 attempts\)/);
  });
});

describe('activityOptionsFor', () => {
  it('gives every class a heartbeat timeout of tens of seconds and unlimited attempts bounded by time', () => {
    for (const retryClass of ['quick', 'standard', 'long'] as const) {
      const o = activityOptionsFor({ id: 'n', activity: 'a', retryClass }, 30);
      expect(o.heartbeatTimeout).toBeGreaterThanOrEqual(10_000);
      expect(o.heartbeatTimeout).toBeLessThanOrEqual(30_000);
      expect(o.retry?.maximumAttempts).toBeUndefined();
      expect(o.retry?.maximumInterval).toBe(30_000);
      expect(o.scheduleToCloseTimeout).toBe(RETRY_CLASS_TIMES[retryClass].startToCloseMs + 30 * 60_000);
      expect(o.retry?.nonRetryableErrorTypes).toEqual([
        'ConfigError',
        'AuthError',
        'ValidationError',
        'PermissionError',
        'KustoLimitsError',
      ]);
    }
  });

  it('takes the outage window from the run input and per-node overrides from the definition', () => {
    const o = activityOptionsFor(
      { id: 'n', activity: 'a', timeouts: { heartbeatSeconds: 2 }, retry: { maximumAttempts: 3 } },
      5,
    );
    expect(o.heartbeatTimeout).toBe(2000);
    expect(o.retry?.maximumAttempts).toBe(3);
    expect(o.scheduleToCloseTimeout).toBe(RETRY_CLASS_TIMES.standard.startToCloseMs + 5 * 60_000);
  });
});
