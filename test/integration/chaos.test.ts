// The chaos benchmark's small version, on a Postgres with production durability and kills paced by
// progress: a 3-date warehouse-nightly backfill, run clean and then with
// the standalone worker process SIGKILLed once (and restarted), Postgres SIGKILLed once and the
// Temporal dev server SIGKILLed once. The warehouse must equal the clean one table by table, with
// exactly one SUCCESS per job and date and no RUNNING row left. (Speed targets: bench/chaos.ts.)
import { expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos-harness.js';
import { projectRoot } from '../support/temporal.js';

it('a backfill that loses its worker, database and Temporal server once each ends like a clean one', async () => {
  const lines: string[] = [];
  const report = await runChaos({
    projectRoot,
    from: '2026-04-01',
    to: '2026-04-03',
    concurrency: 2,
    workerKills: 1,
    postgresKillAfter: 1,
    postgresDownMs: 3000,
    temporalKillAfter: 1,
    temporalDownMs: 2000,
    // Each kill waits for a job to finish since the previous one, then 0-100 ms: it lands among the
    // next jobs however fast the machine (a longer delay let a fast machine finish the 3 dates first).
    killEveryMs: [0, 100],
    scale: { tenants: 2, learners: 300, eventsPerDay: 6000 },
    ports: {},
    seed: 1,
    log: (l) => lines.push(l),
  });
  const context = `${JSON.stringify(report, null, 1)}\n${lines.join('\n')}`;
  expect(report.workerKills, context).toBe(1);
  expect(report.postgresKills, context).toBe(1);
  expect(report.temporalKills, context).toBe(1);
  expect(report.failedDates, context).toEqual([]);
  expect(report.checksumsEqual, context).toBe(true);
  expect(
    Object.values(report.tables).every((t) => !t.chaos.startsWith('0:')),
    context,
  ).toBe(true);
  expect(report.successRowsPerJobDate, context).toEqual({ min: 1, max: 1, pairs: 30, expectedPairs: 30 });
  expect(report.runningRowsLeft, context).toBe(0);
  expect(report.badCompletionTimes, context).toBe(0);
}, 240_000);
