// Change data capture of the OLTP dimensions (issue 18) as a capture source of the CDC runtime
// (runtime/cdc/capture.ts): its publication carries the dimension tables, a fresh slot's initial copy
// syncs each dimension inside the snapshot the slot exported, and each batch becomes SCD2 versions
// (dimensions/cdc-apply.ts) in the warehouse transaction that moves the slot position.
import type { Pool } from '../../connectors/postgres.js';
import {
  runCapture,
  startCapture,
  type CaptureSource,
  type RunOptions,
  type RunSummary,
  type StartResult,
} from '../../runtime/cdc/capture.js';
import { applyDimensions, CDC_TABLES, type CdcTable } from './dimensions/cdc-apply.js';
import { syncDimension } from './dimensions/sync.js';

export interface CdcSource {
  /** Name of the source in cdc_slot_state (and of its workflow). */
  name: string;
  /** The OLTP connection string (replication connections are opened from it). */
  oltpUrl: string;
  publication: string;
  slot: string;
  tables?: readonly CdcTable[];
}

/** `oltp` reads the initial copy (startCdc); consuming needs only the connection string. */
export function dimensionCaptureSource(src: CdcSource, oltp?: Pool): CaptureSource {
  const tables = src.tables ?? CDC_TABLES;
  return {
    name: src.name,
    url: src.oltpUrl,
    publication: src.publication,
    slot: src.slot,
    tables: tables.map((t) => t.source),
    setting: 'WAREHOUSE_OLTP_CAPTURE',
    async initialCopy(tx, snapshotName) {
      if (!oltp) throw new Error(`CDC source ${src.name}: the initial copy needs the OLTP pool`);
      // syncDimension reads the OLTP source through a connection of its own, inside the exported snapshot.
      const copied: Record<string, number> = {};
      for (const t of tables) {
        const counts = await syncDimension(oltp, tx, t.spec, {
          jobName: `cdc_${t.spec.job}`,
          sourceSnapshot: snapshotName,
        });
        copied[t.spec.table] = counts.processed;
      }
      return copied;
    },
    apply: (tx, fresh) => applyDimensions(tx, fresh, tables),
  };
}

/** Idempotent: creates what is missing; a fresh slot comes with a consistent initial copy. */
export async function startCdc(warehouse: Pool, oltp: Pool, src: CdcSource): Promise<StartResult> {
  return startCapture(warehouse, oltp, dimensionCaptureSource(src, oltp));
}

export async function runCdc(warehouse: Pool, src: CdcSource, opts: RunOptions): Promise<RunSummary> {
  return runCapture(warehouse, dimensionCaptureSource(src), opts);
}
