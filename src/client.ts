#!/usr/bin/env node
// `learnsync`: the command-line client. Parses argv, checks input before anything starts, runs
// one command from cli/commands and exits with its code. Bad input, bad configuration or a server
// that is down or refuses the credentials: one line naming what to fix, exit 2 (cli/errors.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMANDS } from './cli/commands/index.js';
import { createCliContext } from './cli/context.js';
import { describeFailure } from './cli/errors.js';
import { CONFIG_VARIABLES, loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { redactSecrets } from './secrets.js';
import { listPipelines } from './pipelines/registry.js';

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'learnsync — durable learning-analytics pipelines on Temporal',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'usage:',
    ...COMMANDS.map((c) => `  ${c.usage}`),
    '',
    `pipelines: ${listPipelines()
      .map((p) => `${p.name} (${p.kind})`)
      .join(', ')}`,
    `configuration (environment): ${CONFIG_VARIABLES.join(', ')}`,
  ].join('\n');
}

export async function main(
  argv: string[],
  print: (line?: string) => void = (l = '') => console.log(l),
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    print(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`learnsync: unknown command "${name}": run \`learnsync --help\` for the list`);
    return 2;
  }
  let ctx;
  try {
    const { positionals, values } = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    const config = loadConfig();
    const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
    ctx = createCliContext(config, logger, print);
    return await command.run(ctx, { positionals, values });
  } catch (err) {
    const debug = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
    const failure = describeFailure(name, err, debug);
    for (const line of failure.lines) console.error(line);
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`usage: ${command.usage}`);
    return failure.exitCode;
  } finally {
    await ctx?.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(redactSecrets(`learnsync: ${(err as Error).message}`));
      process.exit(1);
    },
  );
}
