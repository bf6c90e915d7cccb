// The shape of `learnsync plan` (one line per job and endpoint: the calls the next run will make)
// and the helpers every API family's planner shares.
import type pg from 'pg';

export interface PlanLine {
  job: string;
  endpoint: string;
  mode: string;
  /** null when it cannot be known without spending the calls themselves. */
  calls: number | null;
  basis: string;
}

export interface PlanRun {
  targetDate?: string;
  force: boolean;
}

/** Pages until a short page: a table of n rows in pages of `size` takes floor(n / size) + 1 calls. */
export const pagesFor = (rows: number, size: number) => Math.floor(rows / size) + 1;

export async function alreadySucceeded(db: pg.Pool, jobName: string, run: PlanRun): Promise<boolean> {
  if (!run.targetDate || run.force) return false;
  const r = await db.query(
    `SELECT 1 FROM etl_job_runs WHERE job_name = $1 AND target_date = $2 AND status = 'SUCCESS' LIMIT 1`,
    [jobName, run.targetDate],
  );
  return (r.rowCount ?? 0) > 0;
}
