// The ledger read per workflow run: two runs under one workflow id (a forced rerun, the app-db
// admin triggers' fixed ids) are two rows in `status` and two sets of totals in the API, never
// one merged row that hides the first run's failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { workflowRuns } from '../../../src/cli/status-report.js';
import { jobRunsOf, runTotals } from '../../../src/server/queries.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});

async function ledgerRow(runId: string, job: string, status: string, rows: number, minutesAgo: number) {
  await db.warehouse.query(
    `INSERT INTO etl_job_runs (id, job_name, pipeline, target_date, status, rows_processed, workflow_id,
       workflow_run_id, attempt, error_message, started_at, completed_at)
     VALUES ($1, $2, 'learning-sample', '2026-03-01', $3::text, $4, 'learning-sample-2026-03-01', $5, 1,
       CASE WHEN $3::text = 'FAILED' THEN 'boom' END, now() - make_interval(mins => $6),
       now() - make_interval(mins => $6))`,
    [randomUUID(), job, status, rows, runId, minutesAgo],
  );
}

describe('ledger per workflow run', () => {
  it('keeps two runs of one workflow id apart in status, totals and job lists', async () => {
    const first = 'run-1-' + randomUUID();
    const second = 'run-2-' + randomUUID();
    await ledgerRow(first, 'extract', 'SUCCESS', 10, 30);
    await ledgerRow(first, 'load', 'FAILED', 0, 29);
    await ledgerRow(second, 'extract', 'SUCCESS', 10, 5);
    await ledgerRow(second, 'load', 'SUCCESS', 10, 4);

    const { runs } = await workflowRuns(db.warehouse, 10);
    const mine = runs.filter((r) => r.workflowId === 'learning-sample-2026-03-01');
    expect(mine.map((r) => [r.runId, r.state, r.jobs, r.rows])).toEqual([
      [second, 'SUCCESS', 2, 20],
      [first, 'FAILED', 2, 10],
    ]);

    const totals = await runTotals(db.warehouse, [first, second]);
    expect(totals.get(first)).toMatchObject({ rows: 10, failed_jobs: 1 });
    expect(totals.get(second)).toMatchObject({ rows: 20, failed_jobs: 0 });
    expect((await jobRunsOf(db.warehouse, 'learning-sample-2026-03-01', second)).map((j) => j.status)).toEqual([
      'SUCCESS',
      'SUCCESS',
    ]);
  });
});
