import { findJob, optionalDate } from '../args.js';
import { runAndReport } from '../start-run.js';
import { UsageError, type CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'run-job',
  summary: 'run one job (a pipeline node) on its own, through the ledger',
  usage: 'learnsync run-job <job> --date YYYY-MM-DD [--force] [--no-wait]',
  options: { date: { type: 'string' }, force: { type: 'boolean' }, 'no-wait': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const { pipeline, definition } = findJob(positionals[0]);
    const targetDate = optionalDate(values.date, '--date');
    if (pipeline.kind === 'nightly' && !targetDate)
      throw new UsageError(`--date YYYY-MM-DD is required: ${positionals[0]} builds one date`);
    if (pipeline.kind === 'incremental' && targetDate)
      throw new UsageError(`${positionals[0]} is incremental and takes no --date`);
    return runAndReport(ctx, definition, {
      targetDate,
      force: values.force === true,
      noWait: values['no-wait'] === true,
      definition,
    });
  },
};
