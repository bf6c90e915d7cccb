// Consumes a pgoutput logical replication slot in batches of committed transactions, for a bounded
// time. Acknowledgement is manual and happens only after the caller's `apply` resolved (the caller
// commits its transaction first), so a crash at any point makes Postgres resend what was not
// applied; the caller skips what it had applied (LSN ≤ its stored position). Flow control pauses the
// socket while a batch is applied, so memory holds one batch plus one open source transaction.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import { lsnToBigInt } from './source.js';

export type ChangeOp = 'insert' | 'update' | 'delete' | 'truncate';

export interface Change {
  op: ChangeOp;
  /** schema.table */
  table: string;
  /** New row (insert/update). A column whose value is `undefined` is an unchanged TOASTed value. */
  row: Record<string, unknown> | null;
  /** Old key or old row (delete; update when the key changed or REPLICA IDENTITY FULL). */
  old: Record<string, unknown> | null;
  /** Column names of the relation when this change was decoded (Relation messages may add some). */
  columns: readonly string[];
  /** truncate: every table it truncated. */
  tables?: readonly string[];
}

export interface CommittedTransaction {
  xid: number;
  /** Source commit time, ISO-8601 with microseconds. */
  commitTime: string;
  /** LSN of the end of the commit record: the position to acknowledge and to store. */
  endLsn: string;
  changes: Change[];
}

export interface ConsumeOptions {
  connection: pg.ClientConfig;
  slot: string;
  publication: string;
  /** Apply a batch once it holds this many changes (whole transactions; one big transaction is one batch). */
  maxBatchChanges?: number;
  /** …or once its oldest transaction waited this long. */
  maxBatchWaitMs?: number;
  /** Stop after this long (the activity's bounded slice). */
  durationMs: number;
  /** Transactions ending at or below this LSN were applied already: not even handed to `apply`. */
  appliedLsn?: string;
  signal?: AbortSignal;
}

export interface ConsumeSummary {
  batches: number;
  transactions: number;
  changes: number;
  skippedTransactions: number;
  lastAppliedLsn: string | null;
}

/** Microseconds since 1970 (the decoder already moved Postgres's 2000 epoch) → ISO-8601 with microseconds. */
export function microsToIso(unixMicros: bigint): string {
  const ms = unixMicros / 1000n;
  const rest = Number(unixMicros % 1000n);
  const iso = new Date(Number(ms)).toISOString(); // …sss Z
  return `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

export async function consumeChanges(
  opts: ConsumeOptions,
  apply: (batch: CommittedTransaction[]) => Promise<void>,
): Promise<ConsumeSummary> {
  const maxBatch = opts.maxBatchChanges ?? 5000;
  const maxWait = opts.maxBatchWaitMs ?? 500;
  // timeoutSeconds 0: the library's own timer would otherwise acknowledge positions not yet applied.
  const service = new LogicalReplicationService(opts.connection, {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: true },
  });
  const plugin = new PgoutputPlugin({ protoVersion: 2, publicationNames: [opts.publication] });
  const summary: ConsumeSummary = {
    batches: 0,
    transactions: 0,
    changes: 0,
    skippedTransactions: 0,
    lastAppliedLsn: opts.appliedLsn ?? null,
  };
  const applied = opts.appliedLsn ? lsnToBigInt(opts.appliedLsn) : -1n;
  let open: CommittedTransaction | null = null;
  let batch: CommittedTransaction[] = [];
  let batchChanges = 0;
  let batchSince = 0;
  /** Messages being handled: handlers are async and the emitter does not wait for them, so several may be. */
  let busy = 0;
  let failure: unknown;
  let chain: Promise<void> = Promise.resolve();

  const flush = () => {
    chain = chain.then(async () => {
      if (!batch.length || failure !== undefined) return;
      const taken = batch;
      batch = [];
      batchChanges = 0;
      await apply(taken);
      const end = taken[taken.length - 1]!.endLsn;
      summary.batches++;
      summary.transactions += taken.length;
      summary.changes += taken.reduce((n, t) => n + t.changes.length, 0);
      summary.lastAppliedLsn = end;
      await service.acknowledge(end);
    });
    chain = chain.catch((err: unknown) => {
      failure ??= err;
    });
    return chain;
  };

  service.on('data', async (_lsn: string, msg: Pgoutput.Message) => {
    if (failure !== undefined) return;
    busy++;
    try {
      switch (msg.tag) {
        case 'begin':
          open = { xid: msg.xid, commitTime: '', endLsn: '', changes: [] };
          break;
        case 'insert':
        case 'update':
        case 'delete':
          open?.changes.push({
            op: msg.tag,
            table: `${msg.relation.schema}.${msg.relation.name}`,
            row: msg.tag === 'delete' ? null : msg.new,
            old: msg.tag === 'insert' ? null : (msg.old ?? msg.key),
            columns: msg.relation.columns.map((c) => c.name),
          });
          break;
        case 'truncate':
          open?.changes.push({
            op: 'truncate',
            table: msg.relations.map((r) => `${r.schema}.${r.name}`).join(','),
            row: null,
            old: null,
            columns: [],
            tables: msg.relations.map((r) => `${r.schema}.${r.name}`),
          });
          break;
        case 'commit': {
          const tx = open;
          open = null;
          if (!tx) break;
          tx.commitTime = microsToIso(BigInt(msg.commitTime as unknown as bigint));
          tx.endLsn = msg.commitEndLsn!;
          if (lsnToBigInt(tx.endLsn) <= applied) {
            summary.skippedTransactions++;
            break;
          }
          if (!batch.length) batchSince = Date.now();
          batch.push(tx);
          batchChanges += tx.changes.length;
          if (batchChanges >= maxBatch) await flush();
          break;
        }
        default:
          break; // relation/type/origin: the library keeps the relation cache itself
      }
    } finally {
      busy--;
    }
  });
  // Keepalives: when nothing is pending, everything before the server's position is applied (or not
  // published), so confirming it lets the server recycle WAL written by other databases.
  service.on('heartbeat', async (lsn: string, _ts: number, shouldRespond: boolean) => {
    if (failure !== undefined) return;
    const idle = !busy && !open && !batch.length;
    if (idle && summary.lastAppliedLsn && lsnToBigInt(lsn) > lsnToBigInt(summary.lastAppliedLsn)) {
      await chain;
      // Never past a batch whose apply failed: its transactions must come again.
      if (failure === undefined && !busy && !open && !batch.length) await service.acknowledge(lsn);
    } else if (shouldRespond && summary.lastAppliedLsn) {
      await service.acknowledge(summary.lastAppliedLsn);
    }
  });
  service.on('error', (err: Error) => {
    failure ??= err;
  });

  const started = opts.appliedLsn
    ? service.subscribe(plugin, opts.slot, opts.appliedLsn)
    : service.subscribe(plugin, opts.slot);
  const streaming = started.catch((err: unknown) => {
    failure ??= err;
  });
  const deadline = Date.now() + opts.durationMs;
  try {
    while (failure === undefined && Date.now() < deadline && !opts.signal?.aborted) {
      await new Promise((r) => setTimeout(r, Math.min(50, maxWait)));
      if (batch.length && Date.now() - batchSince >= maxWait) await flush();
    }
    // A transaction cut by the stop is not in `batch`; Postgres sends it again next time.
    if (failure === undefined && !opts.signal?.aborted) await flush();
    await chain;
  } finally {
    await service.stop().catch(() => {});
    await streaming;
    service.removeAllListeners();
  }
  if (failure !== undefined) throw failure;
  return summary;
}
