// What `learnsync demo` shows of change data capture (issue 18): the capture workflow of the OLTP
// source started on the embedded Postgres (wal_level=logical), a few learner changes committed on
// the sample source — one learner's grade changed three times in three transactions — and the SCD2
// versions they became, each valid from its commit time, with the measured lag; then the workflow
// is stopped by its signal. Everything goes through the production path (workflow, slot, apply).
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { lsnToBigInt } from '../connectors/postgres-cdc/index.js';
import { captureBindings } from '../activities/cdc-sources.js';
import { readCaptureStatus } from '../runtime/cdc/status.js';
import { dropCapture } from '../runtime/cdc/capture.js';
import { cdcCapture, cdcStopSignal, cdcWorkflowId } from '../workflows/cdc.js';
import type { CliContext } from './types.js';

const SOURCE = 'oltp';
const WAIT_MS = 90_000;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`CDC showcase: ${what} did not happen within ${WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function showCdc(ctx: CliContext): Promise<number> {
  const client = await ctx.temporal();
  const warehouse = await ctx.warehouse();
  const oltp = await ctx.oltp();
  const workflowId = cdcWorkflowId(SOURCE);
  ctx.print(`change data capture of ${SOURCE} (logical replication → SCD2 dimensions), workflow ${workflowId}:`);
  const src = captureBindings(ctx.config, oltp)[SOURCE]!().source;
  const stopCapture = async () => {
    const h = client.workflow.getHandle(workflowId);
    await h.signal(cdcStopSignal).catch(() => {});
    await Promise.race([h.result().catch(() => {}), new Promise((r) => setTimeout(r, 15_000))]);
  };
  // A fresh slot every time: a capture left by an earlier run (or by `dev`) is stopped and its slot
  // dropped, so no backlog of the demo's own re-seeding comes first and no WAL is kept afterwards.
  await stopCapture();
  await dropCapture(warehouse, oltp, src);
  try {
    await client.workflow.start(cdcCapture, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId,
      args: [{ source: SOURCE, sliceSeconds: 2 }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  try {
    await waitFor('the initial copy', async () =>
      (await readCaptureStatus(warehouse)).find((s) => s.source === SOURCE && s.initialCopyAt),
    );
    const { rows } = await oltp.query<{ learner_id: string; grade_level: number | null }>(
      'SELECT learner_id, grade_level FROM platform.learners ORDER BY student_number LIMIT 1',
    );
    const learner = rows[0];
    if (!learner) {
      ctx.print('  (no learners in the sample source: nothing to change)');
      return 0;
    }
    // Three transactions, three grades: three versions, where a nightly snapshot would keep the last.
    const grade = learner.grade_level ?? 1;
    let target = 0n;
    const conn = await oltp.connect();
    try {
      for (const step of [1, 2, 3]) {
        await conn.query('BEGIN');
        await conn.query('UPDATE platform.learners SET grade_level = $2, updated_at = now() WHERE learner_id = $1', [
          learner.learner_id,
          ((grade + step - 1) % 12) + 1,
        ]);
        // A position before this COMMIT: the commit ends after it, so an applied position past it
        // means this transaction is applied.
        const { rows: at } = await conn.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
        target = lsnToBigInt(at[0]!.lsn);
        await conn.query('COMMIT');
      }
    } finally {
      conn.release();
    }
    const applied = await waitFor('applying the changes', async () => {
      const s = (await readCaptureStatus(warehouse)).find((x) => x.source === SOURCE);
      return s && lsnToBigInt(s.appliedLsn) > target ? s : undefined;
    });
    const versions = await warehouse.query<{ grade_level: number | null; from: string; to: string | null }>(
      `SELECT grade_level, to_char(effective_from, 'YYYY-MM-DD HH24:MI:SS.MS') AS from,
              to_char(effective_to, 'YYYY-MM-DD HH24:MI:SS.MS') AS to
         FROM dw.dim_learner WHERE learner_id = $1 ORDER BY effective_from DESC LIMIT 4`,
      [learner.learner_id],
    );
    ctx.print(`  learner ${learner.learner_id}: grade changed 3 times in 3 transactions → versions (newest first):`);
    for (const v of versions.rows)
      ctx.print(`    grade ${String(v.grade_level ?? '—').padStart(2)}  valid ${v.from} → ${v.to ?? 'current'}`);
    ctx.print(
      `  ${applied.changesApplied} changes applied in ${applied.batchesApplied} batches, ` +
        `lag ${applied.lagSeconds === null ? '?' : `${applied.lagSeconds.toFixed(2)} s`} ` +
        '(then stopped, and its slot dropped; `learnsync dev` with WAREHOUSE_OLTP_CAPTURE=cdc keeps one running)',
    );
    return 0;
  } finally {
    await stopCapture();
    await dropCapture(warehouse, oltp, src).catch(() => {});
  }
}
