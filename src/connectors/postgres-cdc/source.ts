// Administration of a Postgres source for change data capture (issue 18): wal_level check,
// publication and logical replication slot (created with an exported snapshot, so an initial copy
// can read exactly the state the slot's stream starts after), slot lag, slot drop. Names are
// validated identifiers from config; nothing here knows about the warehouse.
import pg from 'pg';
import { ConfigError, PermissionError } from '../../errors.js';

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const TABLE = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

function ident(name: string, what: string): string {
  if (!IDENT.test(name)) throw new ConfigError(`${what} "${name}" must be a lower-case Postgres identifier`);
  return name;
}

type Queryable = Pick<pg.Pool | pg.Client | pg.PoolClient, 'query'>;

export async function walLevel(db: Queryable): Promise<string> {
  return (await db.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
}

/** Refuses CDC, naming the fix, unless the source decodes WAL logically. */
export async function assertLogicalWal(db: Queryable, setting = 'WAREHOUSE_OLTP_CAPTURE'): Promise<void> {
  const level = await walLevel(db);
  if (level !== 'logical') {
    throw new ConfigError(
      `change data capture (${setting}=cdc) needs wal_level=logical on its source, but it is "${level}": set ` +
        "wal_level = 'logical' (and max_replication_slots, max_wal_senders ≥ 1) in postgresql.conf and restart " +
        `Postgres, or set ${setting}=snapshot`,
    );
  }
}

/** Creates the publication for `tables`, or adds the ones an existing publication lacks. */
export async function ensurePublication(db: Queryable, publication: string, tables: readonly string[]): Promise<void> {
  ident(publication, 'publication');
  for (const t of tables) if (!TABLE.test(t)) throw new ConfigError(`CDC table "${t}" must be schema.table`);
  try {
    const exists = await db.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
    if (!exists.rowCount) {
      await db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(', ')}`);
      return;
    }
    if (exists.rows[0].puballtables) return;
    const have = await db.query<{ t: string }>(
      "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1",
      [publication],
    );
    const present = new Set(have.rows.map((r) => r.t));
    const missing = tables.filter((t) => !present.has(t));
    if (missing.length) await db.query(`ALTER PUBLICATION ${publication} ADD TABLE ${missing.join(', ')}`);
  } catch (err) {
    if ((err as { code?: string }).code === '42501') {
      throw new PermissionError(
        `cannot create or alter publication ${publication}: ${(err as Error).message} — the CDC user must own ` +
          `the tables (or an owner runs: CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(', ')})`,
      );
    }
    throw err;
  }
}

export interface SlotInfo {
  exists: boolean;
  active: boolean;
  confirmedFlushLsn: string | null;
  /** WAL the slot holds back: bytes between the server's current position and what the consumer confirmed. */
  lagBytes: number | null;
  walStatus: string | null;
  /** Bytes of WAL that can still be written before the slot is invalidated; null: no max_slot_wal_keep_size. */
  safeWalBytes: number | null;
}

export async function slotInfo(db: Queryable, slot: string): Promise<SlotInfo> {
  const { rows } = await db.query<{
    active: boolean;
    confirmed: string | null;
    lag: string | null;
    wal_status: string | null;
    safe: string | null;
  }>(
    `SELECT active, confirmed_flush_lsn::text AS confirmed, wal_status, safe_wal_size::text AS safe,
            greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [ident(slot, 'slot')],
  );
  const r = rows[0];
  if (!r)
    return {
      exists: false,
      active: false,
      confirmedFlushLsn: null,
      lagBytes: null,
      walStatus: null,
      safeWalBytes: null,
    };
  return {
    exists: true,
    active: r.active,
    confirmedFlushLsn: r.confirmed,
    lagBytes: r.lag === null ? null : Number(r.lag),
    walStatus: r.wal_status,
    safeWalBytes: r.safe === null ? null : Number(r.safe),
  };
}

export async function dropSlot(db: Queryable, slot: string): Promise<boolean> {
  const r = await db.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
    [ident(slot, 'slot')],
  );
  if (!r.rowCount && (await slotInfo(db, slot)).exists) {
    throw new ConfigError(`slot ${slot} is in use by a running consumer: stop it first (learnsync cdc stop)`);
  }
  return (r.rowCount ?? 0) > 0;
}

export interface ExportedSlot {
  /** The LSN the slot's stream starts after: the exported snapshot contains everything up to it. */
  consistentPoint: string;
  /** For `SET TRANSACTION SNAPSHOT` on copy connections; valid until `release()`. */
  snapshotName: string;
  release(): Promise<void>;
}

/**
 * Creates a pgoutput slot on a replication connection and keeps that connection idle, so the
 * snapshot it exported stays importable, until `release()`.
 */
export async function createSlotWithSnapshot(connectionString: string, slot: string): Promise<ExportedSlot> {
  const client = new pg.Client({ connectionString, replication: 'database' } as pg.ClientConfig);
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${ident(slot, 'slot')} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    return {
      consistentPoint: rows[0]!.consistent_point,
      snapshotName: rows[0]!.snapshot_name,
      release: () => client.end().catch(() => {}),
    };
  } catch (err) {
    await client.end().catch(() => {});
    if ((err as { code?: string }).code === '42501') {
      throw new PermissionError(
        `cannot create replication slot ${slot}: ${(err as Error).message} — grant the CDC user REPLICATION ` +
          '(ALTER ROLE … REPLICATION) and allow it a replication connection in pg_hba.conf',
      );
    }
    throw err;
  }
}

/** LSN text "X/Y" as a comparable bigint. */
export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
