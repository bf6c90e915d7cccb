// CDC tests' workload and oracle: random transactions against platform.tenants whose effects the
// test records itself (final state of each key per transaction, and a clock window around each
// COMMIT), and the SCD2 history that log implies, compared version by version with dw.dim_tenant.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { expect } from 'vitest';
import type { Pool } from '../../../src/connectors/postgres.js';
import { slotInfo, lsnToBigInt } from '../../../src/connectors/postgres-cdc/index.js';
import { runCdc, type CdcSource } from '../../../src/pipelines/warehouse/cdc.js';
import { prng } from '../../../src/stack/sample-kit/random.js';

export interface TenantState {
  name: string;
  region: string;
  plan: string;
  is_active: boolean;
}
interface LoggedTx {
  /** Commit happened in [after, before] ± 1 ms. */
  before: number;
  after: number;
  finals: Map<string, TenantState | null>;
}

export class Workload {
  readonly log: LoggedTx[] = [];
  readonly live = new Map<string, TenantState>();
  readonly keys: string[];
  changes = 0;
  private readonly rand: () => number;

  constructor(
    public db: Pool,
    seed: number,
    keyCount = 300,
  ) {
    this.rand = prng(seed); // a failure replays from its seed
    this.keys = Array.from({ length: keyCount }, () => randomUUID());
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private state(): TenantState {
    return {
      name: `Tenant ${Math.floor(this.rand() * 1000)}`,
      region: this.pick(['eu', 'us', 'apac']),
      plan: this.pick(['free', 'pro', 'enterprise']),
      is_active: this.rand() < 0.8,
    };
  }

  /** One source transaction of 1..maxOps random changes; returns the number of changes made. */
  async transaction(client: pg.PoolClient, maxOps = 12): Promise<number> {
    const ops = 1 + Math.floor(this.rand() * maxOps);
    const finals = new Map<string, TenantState | null>();
    const parts: [sql: string, params: unknown[]][] = [];
    const cur = (k: string) => (finals.has(k) ? finals.get(k)! : (this.live.get(k) ?? null));
    for (let i = 0; i < ops; i++) {
      // A few hot keys get many changes (several updates of one row inside and between batches).
      const key = this.rand() < 0.3 ? this.keys[Math.floor(this.rand() * 5)]! : this.pick(this.keys);
      const now = cur(key);
      const r = this.rand();
      if (!now) {
        const s = this.state();
        parts.push([
          `INSERT INTO platform.tenants (tenant_id, name, region, plan, is_active, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, now(), now())`,
          [key, s.name, s.region, s.plan, s.is_active],
        ]);
        finals.set(key, s);
      } else if (r < 0.15) {
        parts.push(['DELETE FROM platform.tenants WHERE tenant_id = $1', [key]]);
        finals.set(key, null);
      } else if (r < 0.25) {
        // Touches only updated_at: no new version.
        parts.push(['UPDATE platform.tenants SET updated_at = clock_timestamp() WHERE tenant_id = $1', [key]]);
        finals.set(key, now);
      } else {
        const s = { ...now };
        const field = this.pick(['name', 'region', 'plan', 'is_active'] as const);
        const fresh = this.state();
        (s as Record<string, unknown>)[field] = fresh[field];
        parts.push([
          `UPDATE platform.tenants SET ${field} = $2, updated_at = clock_timestamp() WHERE tenant_id = $1`,
          [key, s[field]],
        ]);
        finals.set(key, s);
      }
    }
    await client.query('BEGIN');
    for (const [sql, params] of parts) await client.query(sql, params);
    const n = parts.length;
    const before = Date.now();
    await client.query('COMMIT');
    const after = Date.now();
    for (const [k, v] of finals) {
      if (v) this.live.set(k, v);
      else this.live.delete(k);
    }
    this.log.push({ before, after, finals });
    this.changes += n;
    return n;
  }

  async run(minChanges: number, maxOps = 12): Promise<void> {
    const client = await this.db.connect();
    try {
      const target = this.changes + minChanges;
      while (this.changes < target) await this.transaction(client, maxOps);
    } finally {
      client.release();
    }
  }

  /** Records a TRUNCATE of the table as a transaction closing every live key. */
  async truncate(): Promise<void> {
    const before = Date.now();
    await this.db.query('TRUNCATE platform.tenants');
    const after = Date.now();
    this.log.push({ before: before - 5, after, finals: new Map([...this.live.keys()].map((k) => [k, null])) });
    this.live.clear();
  }
}

interface Version extends TenantState {
  from: number;
  fromWindow: [number, number];
  to: number | null;
  toWindow?: [number, number];
}

/** The versions per key that the transaction log implies (tracked columns only). */
export function expectedHistory(log: readonly LoggedTx[]): Map<string, Version[]> {
  const out = new Map<string, Version[]>();
  const sig = (s: TenantState) => JSON.stringify([s.name, s.region, s.plan, s.is_active]);
  for (const tx of log) {
    for (const [key, s] of tx.finals) {
      const vs = out.get(key) ?? [];
      out.set(key, vs);
      const cur = vs.length && vs[vs.length - 1]!.toWindow === undefined ? vs[vs.length - 1]! : undefined;
      const win: [number, number] = [tx.before - 1, tx.after + 1];
      if (!s) {
        if (cur) cur.toWindow = win;
        continue;
      }
      if (cur && sig(cur) === sig(s)) continue;
      if (cur) cur.toWindow = win;
      vs.push({ ...s, from: 0, fromWindow: win, to: null });
    }
  }
  for (const [k, vs] of out) if (!vs.length) out.delete(k);
  return out;
}

/** dw.dim_tenant equals the log's history: same versions, in order, times inside their COMMIT windows. */
export async function expectHistoryMatches(warehouse: Pool, log: readonly LoggedTx[]): Promise<number> {
  const expected = expectedHistory(log);
  const { rows } = await warehouse.query<{
    tenant_id: string;
    tenant_name: string;
    region: string;
    plan: string;
    is_active: boolean;
    f: string;
    t: string | null;
    is_current: boolean;
  }>(
    `SELECT tenant_id::text, tenant_name, region, plan, is_active, is_current,
            extract(epoch FROM effective_from) * 1000 AS f, extract(epoch FROM effective_to) * 1000 AS t
       FROM dw.dim_tenant ORDER BY tenant_id, effective_from, tenant_key`,
  );
  const actual = new Map<string, typeof rows>();
  for (const r of rows) actual.set(r.tenant_id, [...(actual.get(r.tenant_id) ?? []), r]);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  let versions = 0;
  for (const [key, exp] of expected) {
    const got = actual.get(key)!;
    expect(
      got.map((g) => [g.tenant_name, g.region, g.plan, g.is_active, g.is_current]),
      `versions of ${key}`,
    ).toEqual(exp.map((e) => [e.name, e.region, e.plan, e.is_active, e.toWindow === undefined]));
    got.forEach((g, i) => {
      const e = exp[i]!;
      const f = Number(g.f);
      expect(f, `effective_from of ${key} #${i}`).toBeGreaterThanOrEqual(e.fromWindow[0]);
      expect(f, `effective_from of ${key} #${i}`).toBeLessThanOrEqual(e.fromWindow[1]);
      if (e.toWindow) {
        const t = Number(g.t);
        expect(t, `effective_to of ${key} #${i}`).toBeGreaterThanOrEqual(e.toWindow[0]);
        expect(t, `effective_to of ${key} #${i}`).toBeLessThanOrEqual(e.toWindow[1]);
      }
    });
    versions += got.length;
  }
  return versions;
}

/** Consumes in slices until the slot has confirmed everything written before this call. */
export async function drain(warehouse: Pool, oltp: Pool, src: CdcSource, timeoutMs = 40_000): Promise<void> {
  const target = (await oltp.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
  const until = Date.now() + timeoutMs;
  for (;;) {
    await runCdc(warehouse, src, { durationMs: 800, maxBatchWaitMs: 100 });
    const slot = await slotInfo(oltp, src.slot);
    if (slot.confirmedFlushLsn && lsnToBigInt(slot.confirmedFlushLsn) >= lsnToBigInt(target)) return;
    if (Date.now() > until)
      throw new Error(`slot ${src.slot} did not confirm ${target} (at ${slot.confirmedFlushLsn})`);
  }
}
