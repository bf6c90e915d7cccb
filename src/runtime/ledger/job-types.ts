// What a ledgered job is (its spec) and what its work returns (its counts): shared by both job
// runners and the ledger rows they write, in a file of its own so none of them imports another's.
import type { NodeResult } from '../../pipelines/types.js';

export interface JobCounts {
  processed: number;
  inserted?: number;
  updated?: number;
  deleted?: number;
  rejected?: number;
  detail?: NodeResult['detail'];
}

export interface JobSpec {
  jobName: string;
  pipeline?: string;
  targetDate?: string;
  force?: boolean;
  /**
   * Flag the run when rows processed fall by more than this share against the 7-day median (config
   * alerts.rowsDropShare).
   */
  rowsDropShare?: number;
}
