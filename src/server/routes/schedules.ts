// GET /api/schedules and POST /api/schedules/:id/pause|unpause|trigger, for learnsync's own
// schedules only (ids with the declared prefix).
import { ScheduleNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { SCHEDULE_ID_PREFIX } from '../../pipelines/schedules.js';
import { listSchedules } from '../../schedules/manage.js';
import type { ServerDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';

const SCHEDULE_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$' } as const;
const ACTIONS = ['pause', 'unpause', 'trigger'] as const;

export function registerScheduleRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get(
    '/api/schedules',
    {
      config: { access: 'read' },
      schema: { summary: "learnsync's schedules, paused or not, with their next runs", tags: ['schedules'] },
    },
    async () => ({
      schedules: await listSchedules(await deps.temporal()),
    }),
  );

  for (const action of ACTIONS) {
    app.post<{ Params: { id: string } }>(
      `/api/schedules/:id/${action}`,
      {
        config: { access: 'admin' },
        schema: {
          summary: `${action} a schedule`,
          tags: ['schedules'],
          params: { type: 'object', properties: { id: SCHEDULE_ID }, required: ['id'] },
        },
      },
      async (req) => {
        const { id } = req.params;
        if (!id.startsWith(SCHEDULE_ID_PREFIX))
          throw new HttpError(
            404,
            'not_found',
            `no learnsync schedule "${id}": their ids start with ${SCHEDULE_ID_PREFIX}`,
          );
        const handle = (await deps.temporal()).schedule.getHandle(id);
        const note = `${action} through the API by token "${req.token?.name ?? '?'}"`;
        try {
          if (action === 'pause') await handle.pause(note);
          else if (action === 'unpause') await handle.unpause(note);
          else await handle.trigger();
        } catch (err) {
          if (err instanceof ScheduleNotFoundError)
            throw new HttpError(
              404,
              'not_found',
              `no schedule "${id}": \`learnsync schedules apply\` creates the declared ones`,
            );
          throw err;
        }
        req.log.info({ schedule: id, action, token: req.token?.name }, 'schedule changed through the API');
        const d = await handle.describe();
        return { id, action, paused: d.state.paused };
      },
    );
  }
}
