// Two live tokens never share a name (migration 100): the second `tokens create ci` is refused
// with a message naming the way out, and a revoked token's name may be used again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createToken, listTokens, revokeToken } from '../../src/server/tokens.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});

it('refuses a second live token with the same name, and allows the name again once revoked', async () => {
  const first = await createToken(db.warehouse, 'ci', 'read');
  const again = createToken(db.warehouse, 'ci', 'admin');
  await expect(again).rejects.toThrow(ValidationError);
  await expect(again).rejects.toThrow(/a token named "ci" already exists: choose another name or revoke that one/);
  expect((await listTokens(db.warehouse)).filter((t) => t.name === 'ci')).toHaveLength(1);
  await revokeToken(db.warehouse, first.info.id);
  const reused = await createToken(db.warehouse, 'ci', 'admin');
  expect((await listTokens(db.warehouse)).filter((t) => t.name === 'ci').map((t) => t.id)).toEqual([
    first.info.id,
    reused.info.id,
  ]);
});
