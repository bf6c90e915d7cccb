import { checkRunRequest } from '../../schedules/start-runs.js';
import { runAndReport } from '../start-run.js';
import type { CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'run',
  summary: 'run a pipeline once (nightly pipelines default to yesterday, UTC)',
  usage: 'learnsync run <pipeline> [--date YYYY-MM-DD] [--force] [--no-wait]',
  options: { date: { type: 'string' }, force: { type: 'boolean' }, 'no-wait': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const { def, targetDate, force } = checkRunRequest(positionals[0], values.date, values.force === true);
    return runAndReport(ctx, def, {
      targetDate,
      force,
      noWait: values['no-wait'] === true,
      followArgs: (date) => (def.kind === 'nightly' ? `run ${def.name} --date ${date}` : undefined),
    });
  },
};
