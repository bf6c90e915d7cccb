// How a failed command reads: one line naming what to fix, exit 2 for anything the user can fix
// (bad input or configuration, refused credentials, a server that is down), never a secret.
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/cli/errors.js';
import { grpcAuthFailure, postgresProblem } from '../../src/cli/context.js';
import { KustoQueryError } from '../../src/connectors/kusto/errors.js';
import { AuthError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';

describe('describeFailure', () => {
  it('a source refusing the credentials: exit 2, one line, with a pointer to the configuration', () => {
    const f = describeFailure('plan', new AuthError('GitHub answered 401 Bad credentials'), false);
    expect(f.exitCode).toBe(2);
    expect(f.lines).toEqual([
      'learnsync plan: GitHub answered 401 Bad credentials — ' +
        'check the credentials in the configuration (README "Configuration")',
    ]);
  });

  it('an unreachable source (fetch failed, Kusto unreachable): exit 2, one line naming the network error', () => {
    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    const kusto = new KustoQueryError('Kusto query q on test/db: Kusto unreachable', 'transient', 'ENOTFOUND');
    for (const [err, code] of [
      [fetchFailed, 'ECONNREFUSED'],
      [kusto, 'ENOTFOUND'],
    ] as const) {
      const f = describeFailure('run', err, false);
      expect(f.exitCode).toBe(2);
      expect(f.lines).toHaveLength(1);
      expect(f.lines[0]).toContain(`the server is unreachable (${code})`);
    }
  });

  it('masks configured secrets and URL passwords in the line', () => {
    loadConfig({ GITHUB_TOKEN: 'ghp_unit-test-secret-42' });
    const f = describeFailure(
      'run',
      new Error('failed with ghp_unit-test-secret-42 at postgres://u:hunter2-long@db/x'),
      true,
    );
    expect(f.lines.join('\n')).not.toMatch(/ghp_unit-test-secret-42|hunter2-long/);
    expect(f.lines[0]).toBe('learnsync run: failed with *** at postgres://u:***@db/x');
  });
});

describe('connection problems become one-line usage errors', () => {
  it('recognises a Temporal server refusing the API key (gRPC UNAUTHENTICATED / PERMISSION_DENIED)', () => {
    expect(grpcAuthFailure(Object.assign(new Error('16 UNAUTHENTICATED: invalid API key'), { code: 16 }))).toBe(true);
    expect(grpcAuthFailure({ message: 'x', cause: { code: 7 } })).toBe(true);
    expect(grpcAuthFailure(Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: 14 }))).toBe(false);
  });

  it('names the database variable for a refused login, a missing database and an unreachable server', () => {
    const url = 'postgres://u:pw-secret-1@db.internal:6543/wh';
    expect(postgresProblem({ code: '28P01' }, 'the warehouse', url, 'WAREHOUSE_DATABASE_URL')?.message).toBe(
      'the warehouse at db.internal:6543/wh refused the login (SQLSTATE 28P01): check the user and password in ' +
        'WAREHOUSE_DATABASE_URL',
    );
    expect(postgresProblem({ code: '3D000' }, 'the warehouse', url, 'WAREHOUSE_DATABASE_URL')?.message).toMatch(
      /does not exist .*check WAREHOUSE_DATABASE_URL/,
    );
    const oltp = postgresProblem({ code: 'ENOTFOUND' }, 'the OLTP source database', url, 'OLTP_DATABASE_URL');
    expect(oltp?.message).toBe(
      'cannot reach the OLTP source database at db.internal:6543/wh (ENOTFOUND): ' +
        'check OLTP_DATABASE_URL and that the server is running',
    );
    expect(postgresProblem({ code: '40001' }, 'the warehouse', url, 'WAREHOUSE_DATABASE_URL')).toBeUndefined();
  });
});
