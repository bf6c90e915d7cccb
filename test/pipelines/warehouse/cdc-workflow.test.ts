// The CDC workflow (issue 18) on the time-skipping test server with the real activities: it starts
// the source (publication, slot, initial copy), consumes slice after slice while the source changes,
// continues as new to bound its history, reports its totals by query, and stops on its signal.
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities/index.js';
import { dropSlot, slotInfo } from '../../../src/connectors/postgres-cdc/index.js';
import { readCaptureStatus as readCdcStatus } from '../../../src/runtime/cdc/status.js';
import { createOltpSchema } from '../../../src/pipelines/warehouse/sample/schema.js';
import { cdcCapture, cdcProgressQuery, cdcStopSignal, cdcWorkflowId } from '../../../src/workflows/cdc.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';
import { bundledWorkerOptions, createTimeSkippingEnv, Worker } from '../../support/temporal.js';
import { activityDeps } from './helpers.js';
import { expectHistoryMatches, Workload } from './cdc-workload.js';

let env: TestWorkflowEnvironment;
let dbs: TestDatabases;
const slot = `wf_${randomBytes(3).toString('hex')}`;
beforeAll(async () => {
  [env, dbs] = await Promise.all([createTimeSkippingEnv(), createTestDatabases()]);
  await createOltpSchema(dbs.oltp);
});
afterAll(async () => {
  await dropSlot(dbs.oltp, slot).catch(() => {});
  await Promise.all([env?.teardown(), dbs?.close()]);
});

it('consumes in heartbeating slices, continues as new, and stops on its signal', async () => {
  const deps = activityDeps(dbs, {
    OLTP_DATABASE_URL: dbs.oltpUrl,
    WAREHOUSE_CDC_SLOT: slot,
    WAREHOUSE_CDC_PUBLICATION: slot,
    WAREHOUSE_CDC_LAG_ALERT_SECONDS: '60',
  });
  const taskQueue = `cdc-${slot}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities: createActivities(deps),
    ...bundledWorkerOptions(),
  });
  const work = new Workload(dbs.oltp, 18_003, 100);
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(cdcCapture, {
      taskQueue,
      workflowId: cdcWorkflowId('oltp'),
      args: [{ source: 'oltp', sliceSeconds: 1, slicesPerRun: 2 }],
    });
    // Once its slot and initial copy exist (an empty copy here), every change comes through the slot.
    while (!(await readCdcStatus(dbs.warehouse)).length) await new Promise((r) => setTimeout(r, 100));
    // Changes made while it runs, across several slices and at least one continue-as-new.
    await work.run(1500, 6);
    let progress = await handle.query(cdcProgressQuery);
    const until = Date.now() + 45_000;
    while (progress.changes < work.changes || progress.runs < 2) {
      if (Date.now() > until) {
        const events = (await handle.fetchHistory()).events ?? [];
        const failures = events
          .map(
            (e) =>
              e.activityTaskFailedEventAttributes?.failure?.message ??
              e.workflowTaskFailedEventAttributes?.failure?.message,
          )
          .filter(Boolean);
        throw new Error(`no progress: ${JSON.stringify(progress)}; failures: ${failures.join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 300));
      progress = await handle.query(cdcProgressQuery);
    }
    await handle.signal(cdcStopSignal);
    const totals = await handle.result();
    expect(totals.changes).toBe(work.changes);
    expect(totals.runs).toBeGreaterThanOrEqual(2);
    expect(totals.lastAppliedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  await expectHistoryMatches(dbs.warehouse, work.log);
  const [status] = await readCdcStatus(dbs.warehouse);
  expect(status).toMatchObject({ source: 'oltp', slot, changesApplied: work.changes, alert: null });
  expect(status!.lagBytes).not.toBeNull();
  expect((await slotInfo(dbs.oltp, slot)).active).toBe(false);
});
