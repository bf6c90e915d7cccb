import { optionalDate, requirePipeline } from '../args.js';
import { runAndReport } from '../start-run.js';
import { UsageError, type CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'run',
  summary: 'run a pipeline once (nightly pipelines default to yesterday, UTC)',
  usage: 'learnsync run <pipeline> [--date YYYY-MM-DD] [--force] [--no-wait]',
  options: { date: { type: 'string' }, force: { type: 'boolean' }, 'no-wait': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const def = requirePipeline(positionals[0]);
    const targetDate = optionalDate(values.date, '--date');
    if (def.kind === 'incremental' && targetDate)
      throw new UsageError(`${def.name} is incremental and takes no --date: it reads from its stored cursors`);
    return runAndReport(ctx, def, { targetDate, force: values.force === true, noWait: values['no-wait'] === true });
  },
};
