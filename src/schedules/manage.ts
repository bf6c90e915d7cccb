// Makes Temporal's schedules match src/pipelines/schedules.ts. Each schedule carries a hash of
// its declaration in its memo, so `apply` updates only what changed and a second apply is a no-op.
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { CATCHUP_WINDOW, SCHEDULE_ID_PREFIX, SCHEDULES, type ScheduleSpecConfig } from '../pipelines/schedules.js';
import { PIPELINE_KEY } from '../workflows/search-attributes.js';

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export function specHash(s: ScheduleSpecConfig, taskQueue: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...s, taskQueue, catchup: CATCHUP_WINDOW }))
    .digest('hex')
    .slice(0, 16);
}

function toOptions(s: ScheduleSpecConfig, taskQueue: string, withSearchAttributes: boolean): ScheduleOptions {
  return {
    scheduleId: s.id,
    spec: {
      ...(s.cron && { cronExpressions: s.cron }),
      ...(s.every && { intervals: [{ every: s.every }] }),
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'runPipeline',
      workflowId: `${s.id}-run`,
      taskQueue,
      args: [{ pipeline: s.pipeline, force: s.force ?? false }],
      ...(withSearchAttributes && { typedSearchAttributes: [{ key: PIPELINE_KEY, value: s.pipeline }] }),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW, pauseOnFailure: false },
    state: { note: s.description },
    memo: { learnsyncSpecHash: specHash(s, taskQueue) },
  };
}

export async function applySchedules(
  client: Client,
  taskQueue: string,
  schedules: readonly ScheduleSpecConfig[] = SCHEDULES,
  opts: { searchAttributes?: boolean } = {},
): Promise<Record<string, ApplyOutcome>> {
  const out: Record<string, ApplyOutcome> = {};
  for (const s of schedules) {
    const options = toOptions(s, taskQueue, opts.searchAttributes ?? true);
    const handle = client.schedule.getHandle(s.id);
    let current;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!current) {
      await client.schedule.create(options);
      out[s.id] = 'created';
      continue;
    }
    const memoHash = current.memo?.learnsyncSpecHash;
    if (memoHash === options.memo!.learnsyncSpecHash) {
      out[s.id] = 'unchanged';
      continue;
    }
    // The memo cannot be updated in place: recreate so the stored hash matches the new spec.
    await handle.delete();
    await client.schedule.create(options);
    out[s.id] = 'updated';
  }
  return out;
}

export interface ScheduleSummary {
  id: string;
  pipeline?: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: number;
  declared: boolean;
}

export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const declared = new Set(SCHEDULES.map((s) => s.id));
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    const args =
      d.action.type === 'startWorkflow' ? (d.action.args as Array<{ pipeline?: string }> | undefined) : undefined;
    out.push({
      id: s.scheduleId,
      pipeline: args?.[0]?.pipeline,
      paused: d.state.paused,
      note: d.state.note,
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.length,
      declared: declared.has(s.scheduleId),
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
