// A fresh pair of databases (warehouse + OLTP source) per test file, migrated, in the shared
// embedded Postgres that global-setup started.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/connectors/postgres.js';
import { embeddedUrl } from '../../src/stack/embedded-postgres.js';
import { migrate } from '../../src/warehouse/migrate.js';

export interface TestDatabases {
  warehouse: Pool;
  oltp: Pool;
  warehouseUrl: string;
  oltpUrl: string;
  close(): Promise<void>;
}

export async function createTestDatabases(opts: { migrate?: boolean } = {}): Promise<TestDatabases> {
  const port = inject('pgPort');
  const suffix = randomBytes(4).toString('hex');
  const names = [`wh_${suffix}`, `oltp_${suffix}`];
  const admin = new pg.Client({ connectionString: embeddedUrl(port, 'postgres') });
  await admin.connect();
  for (const n of names) await admin.query(`CREATE DATABASE ${n}`);
  await admin.end();
  const warehouseUrl = embeddedUrl(port, names[0]!);
  const oltpUrl = embeddedUrl(port, names[1]!);
  const warehouse = createPool(warehouseUrl, { max: 10 });
  const oltp = createPool(oltpUrl, { max: 10 });
  if (opts.migrate !== false) await migrate(warehouse);
  return {
    warehouse,
    oltp,
    warehouseUrl,
    oltpUrl,
    close: async () => {
      await Promise.all([warehouse.end(), oltp.end()]);
    },
  };
}
