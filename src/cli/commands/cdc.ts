// `learnsync cdc start|status|stop|drop-slot <source>`: the change data capture workflow of a source
// (issue 18). Start is idempotent (one workflow per source, id cdc-<source>); status shows the slot,
// the applied position and the lag; drop-slot refuses while the workflow runs.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { slotInfo } from '../../connectors/postgres-cdc/index.js';
import { captureBindings, captureEnabled, CAPTURE_SOURCE_NAMES } from '../../activities/cdc-sources.js';
import { withCapture, type CaptureBinding } from '../../runtime/cdc/activities.js';
import { dropCapture } from '../../runtime/cdc/capture.js';
import { readCaptureStatus } from '../../runtime/cdc/status.js';
import { cdcCapture, cdcStopSignal, cdcWorkflowId } from '../../workflows/cdc.js';
import { UsageError, type CliCommand, type CliContext } from '../types.js';

async function workflowRunning(ctx: CliContext, source: string): Promise<boolean> {
  try {
    const d = await (await ctx.temporal()).workflow.getHandle(cdcWorkflowId(source)).describe();
    return d.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export const command: CliCommand = {
  name: 'cdc',
  summary:
    'change data capture (OLTP dimensions → SCD2, Postgres app database → BigQuery): start, status, stop, drop-slot',
  usage: 'learnsync cdc start|status|stop|drop-slot <source> [--json] [--slice-seconds N]',
  options: { json: { type: 'boolean' }, 'slice-seconds': { type: 'string' } },
  async run(ctx, { positionals, values }) {
    const [action, source = 'oltp'] = positionals;
    if (!(CAPTURE_SOURCE_NAMES as readonly string[]).includes(source))
      throw new UsageError(`unknown CDC source "${source}": known sources are ${CAPTURE_SOURCE_NAMES.join(', ')}`);
    const bound = async <T>(f: (b: CaptureBinding) => Promise<T>): Promise<T> =>
      withCapture(captureBindings(ctx.config, await ctx.oltp()), source, f);
    const enabled = captureEnabled(ctx.config, source);
    switch (action) {
      case 'start': {
        if (!enabled.on) {
          throw new UsageError(
            `CDC of ${source} is off: set ${enabled.setting} ` +
              '(the source needs wal_level=logical; README "Change data capture")',
          );
        }
        const slice = values['slice-seconds'] === undefined ? 60 : Number(values['slice-seconds']);
        if (!Number.isInteger(slice) || slice < 1 || slice > 3600)
          throw new UsageError('--slice-seconds must be a whole number of seconds between 1 and 3600');
        const client = await ctx.temporal();
        try {
          await client.workflow.start(cdcCapture, {
            taskQueue: ctx.config.temporal.taskQueue,
            workflowId: cdcWorkflowId(source),
            args: [{ source, sliceSeconds: slice, outageWindowMinutes: ctx.config.retry.outageWindowMinutes }],
          });
          ctx.print(
            `started ${cdcWorkflowId(source)}: capturing ${source} ` +
              (source === 'oltp' ? 'into the SCD2 dimensions' : 'into the change log its BigQuery syncs read'),
          );
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          ctx.print(`${cdcWorkflowId(source)} is already running`);
        }
        return 0;
      }
      case 'status': {
        const warehouse = await ctx.warehouse();
        const { src, slot } = await bound(async (b) => ({ src: b.source, slot: await slotInfo(b.db, b.source.slot) }));
        const stored = (await readCaptureStatus(warehouse)).find((s) => s.source === source) ?? null;
        const running = await workflowRunning(ctx, source).catch(() => null);
        const report = { source, capture: enabled.on ? 'cdc' : 'snapshot', workflowRunning: running, slot, stored };
        if (values.json) {
          ctx.print(JSON.stringify(report, null, 2));
          return 0;
        }
        ctx.print(`source ${source} (${enabled.on ? enabled.setting : `capture off: ${enabled.setting} turns it on`})`);
        ctx.print(
          `  workflow ${cdcWorkflowId(source)}: ${running === null ? 'unknown' : running ? 'running' : 'not running'}`,
        );
        ctx.print(
          slot.exists
            ? `  slot ${src.slot}: ${slot.active ? 'active' : 'idle'}, confirmed ${slot.confirmedFlushLsn}, ` +
                `holds ${slot.lagBytes} bytes of WAL (${slot.walStatus})`
            : `  slot ${src.slot}: does not exist`,
        );
        ctx.print(
          stored
            ? `  applied ${stored.appliedLsn}, ${stored.changesApplied} changes in ${stored.batchesApplied} batches, ` +
                `lag ${stored.lagSeconds?.toFixed(1) ?? '?'} s${stored.alert ? `  ALERT ${stored.alert}` : ''}`
            : `  never started (learnsync cdc start ${source})`,
        );
        return stored?.alert ? 1 : 0;
      }
      case 'stop': {
        const handle = (await ctx.temporal()).workflow.getHandle(cdcWorkflowId(source));
        await handle.signal(cdcStopSignal);
        ctx.print(`asked ${cdcWorkflowId(source)} to stop after its current slice`);
        return 0;
      }
      case 'drop-slot': {
        if (await workflowRunning(ctx, source))
          throw new UsageError(`${cdcWorkflowId(source)} is running: learnsync cdc stop ${source} first`);
        const warehouse = await ctx.warehouse();
        const dropped = await bound((b) => dropCapture(warehouse, b.db, b.source));
        ctx.print(
          dropped
            ? `dropped the slot of ${source}; the next start copies the tables afresh`
            : `${source} had no slot; its stored position is forgotten`,
        );
        return 0;
      }
      default:
        throw new UsageError('cdc needs an action: start, status, stop or drop-slot <source>');
    }
  },
};
