// CDC → SCD2 (issue 18) on the shared embedded Postgres (wal_level=logical): the initial copy in the
// slot's exported snapshot, the named cases (TOAST, new columns, rejects, TRUNCATE, delete and
// re-insert, several updates in one transaction), and a random workload of > 10,000 changes consumed
// while it runs, with a consumer that dies after a commit and before its acknowledgement.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertLogicalWal, dropSlot, lsnToBigInt, slotInfo } from '../../../src/connectors/postgres-cdc/index.js';
import { withTransaction } from '../../../src/connectors/postgres.js';
import { applyCdcBatch } from '../../../src/pipelines/warehouse/dimensions/cdc-apply.js';
import { runCdc, startCdc, type CdcSource } from '../../../src/pipelines/warehouse/cdc.js';
import { createOltpSchema } from '../../../src/pipelines/warehouse/sample/schema.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config.js';
import { createWarehouseActivities } from '../../../src/pipelines/warehouse/activities.js';
import { drain, expectHistoryMatches, Workload } from './cdc-workload.js';

let dbs: TestDatabases;
const suffix = randomBytes(3).toString('hex');
const sources: CdcSource[] = [];
const source = (tag: string): CdcSource => {
  const s = { name: `oltp_${tag}`, oltpUrl: dbs.oltpUrl, publication: `pub_${suffix}`, slot: `s_${tag}_${suffix}` };
  sources.push(s);
  return s;
};

beforeAll(async () => {
  dbs = await createTestDatabases();
  await createOltpSchema(dbs.oltp);
});
afterAll(async () => {
  for (const s of sources) await dropSlot(dbs.oltp, s.slot).catch(() => {});
  await dbs?.close();
});

const T = (n: number) => `aaaaaaaa-0000-0000-0000-${String(n).padStart(12, '0')}`;
async function tenant(id: string, name: string, plan = 'free') {
  await dbs.oltp.query(
    `INSERT INTO platform.tenants (tenant_id, name, region, plan, is_active, created_at, updated_at)
     VALUES ($1, $2, 'eu', $3, true, '2025-01-01Z', '2025-01-01Z')`,
    [id, name, plan],
  );
}
const versions = async (id: string) =>
  (
    await dbs.warehouse.query<{ tenant_name: string; plan: string; is_current: boolean; closed: boolean }>(
      `SELECT tenant_name, plan, is_current, effective_to IS NOT NULL AS closed
         FROM dw.dim_tenant WHERE tenant_id = $1 ORDER BY effective_from, tenant_key`,
      [id],
    )
  ).rows.map((r) => `${r.tenant_name.slice(0, 12)}|${r.plan}|${r.is_current ? 'current' : 'closed'}`);

describe('postgres CDC into SCD2 dimensions', () => {
  it('refuses CDC with the fix named when wal_level is not logical', async () => {
    const replica = { query: async () => ({ rows: [{ wal_level: 'replica' }] }) } as never;
    await expect(assertLogicalWal(replica)).rejects.toThrow(
      /wal_level=logical.*"replica".*WAREHOUSE_OLTP_CAPTURE=snapshot/s,
    );
    await expect(assertLogicalWal(dbs.oltp)).resolves.toBeUndefined();
  });

  it('copies inside the exported snapshot, then applies each committed change as its own version', async () => {
    await tenant(T(1), 'Copied Before Start');
    await tenant(T(2), 'Deleted Later');
    const src = source('cases');
    const started = await startCdc(dbs.warehouse, dbs.oltp, src);
    expect(started).toMatchObject({ created: true, copied: { 'dw.dim_tenant': 2, 'dw.dim_learner': 0 } });
    expect((await startCdc(dbs.warehouse, dbs.oltp, src)).created).toBe(false);
    expect(await versions(T(1))).toEqual(['Copied Befor|free|current']);

    // A name far over the TOAST threshold, stored out of line (random text does not compress).
    const long = `Long ${randomBytes(6000).toString('hex')}`;
    await tenant(T(3), long);
    await dbs.oltp.query(`UPDATE platform.tenants SET plan = 'pro' WHERE tenant_id = $1`, [T(3)]); // name sent as 'u'
    // Several updates in one transaction: one version.
    await dbs.oltp.query(`BEGIN;
      UPDATE platform.tenants SET plan = 'pro' WHERE tenant_id = '${T(1)}';
      UPDATE platform.tenants SET plan = 'enterprise' WHERE tenant_id = '${T(1)}';
      COMMIT`);
    await dbs.oltp.query(`UPDATE platform.tenants SET updated_at = now() WHERE tenant_id = $1`, [T(1)]); // untracked
    await dbs.oltp.query('DELETE FROM platform.tenants WHERE tenant_id = $1', [T(2)]);
    await tenant(T(2), 'Deleted Later', 'pro'); // re-insert of the same key
    // A new column in the source (a Relation message), then a change to the new shape.
    await dbs.oltp.query('ALTER TABLE platform.tenants ADD COLUMN IF NOT EXISTS billing_note TEXT');
    await dbs.oltp.query(`UPDATE platform.tenants SET billing_note = 'x', plan = 'free' WHERE tenant_id = $1`, [T(2)]);
    await dbs.oltp.query(`UPDATE platform.tenants SET name = '  ' WHERE tenant_id = $1`, [T(1)]); // rejected
    await drain(dbs.warehouse, dbs.oltp, src);

    expect(await versions(T(1))).toEqual(['Copied Befor|free|closed', 'Copied Befor|enterprise|current']);
    expect(await versions(T(2))).toEqual([
      'Deleted Late|free|closed',
      'Deleted Late|pro|closed',
      'Deleted Late|free|current',
    ]);
    const toasted = await dbs.warehouse.query<{ tenant_name: string; plan: string }>(
      'SELECT tenant_name, plan FROM dw.dim_tenant WHERE tenant_id = $1 ORDER BY effective_from',
      [T(3)],
    );
    expect(toasted.rows).toEqual([
      { tenant_name: long, plan: 'free' },
      { tenant_name: long, plan: 'pro' },
    ]);
    // Versions start at their source commit: the last minute, not the rows' own 2025 timestamps.
    const times = await dbs.warehouse.query<{ recent: boolean }>(
      `SELECT effective_from BETWEEN now() - interval '1 minute' AND now() AS recent
         FROM dw.dim_tenant WHERE tenant_id = $1`,
      [T(3)],
    );
    expect(times.rows).toEqual([{ recent: true }, { recent: true }]);
    const rejects = await dbs.warehouse.query<{ reason: string }>(
      "SELECT reason FROM etl_rejects WHERE job_name = 'cdc_sync_dim_tenant'",
    );
    expect(rejects.rows).toEqual([{ reason: 'missing tenant name' }]);
    // The deleted key's gap: its first version ends before its second begins.
    const gap = await dbs.warehouse.query<{ ok: boolean }>(
      `SELECT (array_agg(effective_to ORDER BY effective_from))[1]
                < (array_agg(effective_from ORDER BY effective_from))[2] AS ok
         FROM dw.dim_tenant WHERE tenant_id = $1`,
      [T(2)],
    );
    expect(gap.rows[0]!.ok).toBe(true);

    await dbs.oltp.query('TRUNCATE platform.tenants');
    await drain(dbs.warehouse, dbs.oltp, src);
    const open = await dbs.warehouse.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM dw.dim_tenant WHERE is_current',
    );
    expect(open.rows[0]!.n).toBe(0);
    await dbs.oltp.query('ALTER TABLE platform.tenants DROP COLUMN billing_note');
    await dropSlot(dbs.oltp, src.slot);
  });

  it('> 10,000 random changes: the SCD2 history is what the change log implies, nothing twice', async () => {
    await dbs.warehouse.query('TRUNCATE dw.dim_tenant, dw.dim_learner, etl_rejects, cdc_slot_state');
    await dbs.oltp.query('TRUNCATE platform.tenants');
    const src = source('random');
    await startCdc(dbs.warehouse, dbs.oltp, src);
    const work = new Workload(dbs.oltp, 18_001);

    // Consumed while written, in small batches so that many batch boundaries fall between updates of a key.
    const writing = work.run(6000);
    while (work.changes < 6000) {
      await runCdc(dbs.warehouse, src, { durationMs: 400, maxBatchChanges: 300, maxBatchWaitMs: 50 });
    }
    await writing;

    // A consumer that dies after committing a batch, before acknowledging it: Postgres sends the batch
    // again and the stored position makes the next consumer skip it.
    await work.run(4500);
    let crashed = 0;
    await expect(
      runCdc(dbs.warehouse, src, {
        durationMs: 20_000,
        maxBatchChanges: 500,
        onBatch: (c) => {
          if (c.transactions > 0 && ++crashed === 2) throw new Error('consumer killed');
        },
      }),
    ).rejects.toThrow('consumer killed');
    const stored = (await dbs.warehouse.query('SELECT applied_lsn::text AS l FROM cdc_slot_state')).rows[0].l;
    const slot = await slotInfo(dbs.oltp, src.slot);
    // The crash left a committed, unacknowledged batch.
    expect(lsnToBigInt(slot.confirmedFlushLsn!)).toBeLessThan(lsnToBigInt(stored));

    // The resumed consumer asks the slot to start after the stored position (the server skips what was applied).
    await runCdc(dbs.warehouse, src, { durationMs: 1500, maxBatchChanges: 500 });
    // And the warehouse side skips it too, should the server send it again anyway.
    const before = await dbs.warehouse.query('SELECT count(*)::int AS n FROM dw.dim_tenant');
    const replay = await withTransaction(dbs.warehouse, (tx) =>
      applyCdcBatch(tx, src.name, [
        {
          xid: 1,
          commitTime: new Date().toISOString(),
          endLsn: stored,
          changes: [
            {
              op: 'truncate',
              table: 'platform.tenants',
              tables: ['platform.tenants'],
              row: null,
              old: null,
              columns: [],
            },
          ],
        },
      ]),
    );
    expect(replay).toMatchObject({ transactions: 0, skipped: 1, closed: 0 });
    expect((await dbs.warehouse.query('SELECT count(*)::int AS n FROM dw.dim_tenant')).rows).toEqual(before.rows);
    await drain(dbs.warehouse, dbs.oltp, src);

    expect(work.changes).toBeGreaterThanOrEqual(10_000);
    const n = await expectHistoryMatches(dbs.warehouse, work.log);
    expect(n).toBeGreaterThan(1000);
  });
  it('with CDC on, the snapshot job of a captured dimension compares and never writes versions', async () => {
    const src = { name: 'oltp', oltpUrl: dbs.oltpUrl, publication: `pub_${suffix}`, slot: `s_nightly_${suffix}` };
    sources.push(src);
    await startCdc(dbs.warehouse, dbs.oltp, src);
    const config = loadConfig({ WAREHOUSE_OLTP_CAPTURE: 'cdc', LOG_LEVEL: 'silent' });
    const acts = createWarehouseActivities({
      warehouse: dbs.warehouse,
      oltp: dbs.oltp,
      logger: pino({ level: 'silent' }),
      config,
    } as never);
    const job = () =>
      acts.syncDimTenant({ pipeline: 'warehouse-dimensions', nodeId: 'sync_dim_tenant', force: true, params: {} });
    const allVersions = async () =>
      (await dbs.warehouse.query('SELECT count(*)::int AS n FROM dw.dim_tenant')).rows[0].n as number;
    const before = await allVersions();
    const first = await job();
    expect(first.detail).toMatchObject({ checkedAgainstCdc: true });
    expect(first.rows).toBeGreaterThan(0);
    // A change the capture has not applied yet: the snapshot sees it, counts it, and leaves it to the capture.
    await tenant(T(999_999), 'Not Captured Yet');
    const second = await job();
    expect(Number(second.detail!.keysDiffering)).toBe(Number(first.detail!.keysDiffering) + 1);
    expect(await allVersions()).toBe(before);
    // With capture off the same job merges the snapshot, as before.
    const snapshot = createWarehouseActivities({
      warehouse: dbs.warehouse,
      oltp: dbs.oltp,
      logger: pino({ level: 'silent' }),
      config: loadConfig({ LOG_LEVEL: 'silent' }),
    } as never);
    const merged = await snapshot.syncDimTenant({
      pipeline: 'warehouse-dimensions',
      nodeId: 'sync_dim_tenant',
      force: true,
      params: {},
    });
    expect(merged.detail).not.toHaveProperty('checkedAgainstCdc');
    expect(await allVersions()).toBeGreaterThan(before);
  });
});
