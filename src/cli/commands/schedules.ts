import { SCHEDULES } from '../../pipelines/schedules.js';
import { applySchedules, listSchedules } from '../../schedules/manage.js';
import { UsageError, type CliCommand } from '../types.js';

const ACTIONS = ['apply', 'list', 'pause', 'unpause', 'trigger', 'delete'] as const;
const DONE = {
  pause: 'paused',
  unpause: 'unpaused',
  trigger: 'triggered (a run starts now)',
  delete: 'deleted',
} as const;

export const command: CliCommand = {
  name: 'schedules',
  summary: 'apply the declared Temporal Schedules (idempotent), list, pause, unpause, trigger or delete them',
  usage: 'learnsync schedules apply|list|pause <id>|unpause <id>|trigger <id>|delete <id>',
  async run(ctx, { positionals }) {
    const [action, id] = positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`schedules needs one of: ${ACTIONS.join(', ')}`);
    if (action !== 'apply' && action !== 'list') {
      if (!id)
        throw new UsageError(`schedules ${action} needs a schedule id: ${SCHEDULES.map((s) => s.id).join(', ')}`);
    }
    const client = await ctx.temporal();
    switch (action) {
      case 'apply': {
        const outcome = await applySchedules(client, ctx.config.temporal.taskQueue);
        for (const [sid, o] of Object.entries(outcome)) ctx.print(`  ${sid.padEnd(36)} ${o}`);
        const changed = Object.values(outcome).filter((o) => o !== 'unchanged').length;
        ctx.print(changed ? `${changed} schedule(s) changed` : 'schedules already up to date: nothing changed');
        return 0;
      }
      case 'list': {
        const list = await listSchedules(client);
        if (list.length === 0) ctx.print('no learnsync schedules: run `learnsync schedules apply`');
        for (const s of list) {
          ctx.print(
            `  ${s.id.padEnd(36)} ${s.paused ? 'PAUSED ' : 'active '} ${s.pipeline ?? ''}  next: ` +
              `${s.nextRuns[0] ?? '-'}${s.declared ? '' : '  (not declared any more)'}`,
          );
        }
        return 0;
      }
      default: {
        const handle = client.schedule.getHandle(id!);
        try {
          if (action === 'pause') await handle.pause('paused with learnsync schedules pause');
          if (action === 'unpause') await handle.unpause('unpaused with learnsync schedules unpause');
          if (action === 'trigger') await handle.trigger();
          if (action === 'delete') await handle.delete();
        } catch (err) {
          if ((err as Error).name === 'ScheduleNotFoundError')
            throw new UsageError(`no schedule "${id}": see \`learnsync schedules list\``);
          throw err;
        }
        ctx.print(`${id}: ${DONE[action as keyof typeof DONE]}`);
        return 0;
      }
    }
  },
};
