#!/usr/bin/env node
// `learnsync`: the command-line client. Parses argv, checks input before anything starts, runs
// one command from cli/commands and exits with its code. Bad input, bad configuration or a server
// that is down or refuses the credentials: one line naming what to fix, exit 2 (cli/errors.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { COMMANDS } from './cli/commands/index.js';
import { createCliContext } from './cli/context.js';
import { describeFailure } from './cli/errors.js';
import { learnsyncHint } from './cli/hints.js';
import { cliLogFile, FEED_COMMANDS } from './cli/log-file.js';
import { exitCodeFor, ownSignals } from './cli/signals.js';
import { CONFIG_VARIABLES, loadConfig } from './config.js';
import { createLogger } from './logging.js';
import { redactSecrets } from './secrets.js';
import { listPipelines } from './pipelines/registry.js';

/** The variables most runs need; `learnsync help config` lists the rest. */
const MAIN_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'WAREHOUSE_DATABASE_URL',
  'OLTP_DATABASE_URL',
  'LOG_LEVEL',
];

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
    'one command: `learnsync help <command>` or `learnsync <command> --help`',
    `configuration (environment): ${MAIN_VARIABLES.join(', ')}; ` +
      `\`learnsync help config\` lists all ${CONFIG_VARIABLES.length}`,
  ].join('\n');
}

function configHelp(): string {
  const groups = new Map<string, string[]>();
  for (const v of CONFIG_VARIABLES) {
    const prefix = v.split('_')[0]!;
    groups.set(prefix, [...(groups.get(prefix) ?? []), v]);
  }
  return [
    'configuration variables (each may instead be given as <VAR>_FILE, a file holding the value);',
    'defaults and meanings: README.md, section "Configuration"',
    ...[...groups.values()].map((vs) => `  ${vs.join(', ')}`),
  ].join('\n');
}

/** `learnsync help <command>` and `learnsync <command> --help`: what it does, its usage and flags. */
function commandHelp(command: (typeof COMMANDS)[number]): string {
  const flags = Object.entries(command.options ?? {}).map(
    ([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}${o.short ? ` (-${o.short})` : ''}`,
  );
  return [
    `learnsync ${command.name} — ${command.summary}`,
    '',
    `usage: ${command.usage}`,
    ...(flags.length ? ['', 'flags:', ...flags] : []),
  ].join('\n');
}

/** Edit distance, for "did you mean": small words, so the plain table is fine. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** One line for an unknown command: the closest commands, and the list's command as it runs from here. */
export function unknownCommand(name: string): string {
  const close = COMMANDS.map((c) => ({ name: c.name, d: distance(name, c.name) }))
    .filter((c) => c.d <= Math.max(1, Math.floor(c.name.length / 3)) || c.name.startsWith(name))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((c) => `"${c.name}"`);
  return (
    `learnsync: unknown command "${name}"${close.length ? `: did you mean ${close.join(' or ')}?` : ''} ` +
    `(\`${learnsyncHint('--help')}\` lists them all)`
  );
}

/** Node's parseArgs message → one line naming the flag and what the command accepts. */
function flagError(e: Error & { code?: string }, command: (typeof COMMANDS)[number]): string {
  const flag = /'(-[^']*)'/.exec(e.message)?.[1];
  const known = Object.keys(command.options ?? {}).map((o) => `--${o}`);
  const accepts = known.length ? `${command.name} takes ${known.join(', ')}` : `${command.name} takes no flags`;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag ?? ''}: ${accepts}`;
  return `${e.message.split('\n')[0]!.replace(/\.$/, '')} (usage: ${command.usage})`;
}

export async function main(
  argv: string[],
  print: (line?: string) => void = (l = '') => console.log(l),
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] === 'config') {
    print(configHelp());
    return 0;
  }
  if (name === 'help' && rest[0]) {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (!topic) {
      console.error(unknownCommand(rest[0]));
      return 2;
    }
    print(commandHelp(topic));
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    print(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(unknownCommand(name));
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    print(commandHelp(command));
    return 0;
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
    const level = config.log.level === 'info' ? 'warn' : config.log.level;
    const logger = FEED_COMMANDS.has(command.name)
      ? createLogger({
          level,
          destination: pino.destination({ dest: cliLogFile(config, command.name), mkdir: true, mode: 0o600 }),
        })
      : createLogger({ level });
    ctx = createCliContext(config, logger, print);
    return await command.run(ctx, { positionals, values });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(redactSecrets(`learnsync ${name}: ${flagError(e, command)}`));
      return 2;
    }
    const debug = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
    const failure = describeFailure(name, err, debug);
    for (const line of failure.lines) console.error(line);
    return failure.exitCode;
  } finally {
    await ctx?.close();
  }
}

/** The `learnsync` process: owns its stop signals, runs one command, exits with its code. */
export async function runCli(argv: string[]): Promise<never> {
  // learnsync, not a dependency, decides what a signal means; with no command handling it, stop now.
  ownSignals((signal) => process.exit(exitCodeFor(signal)));
  try {
    process.exit(await main(argv));
  } catch (err) {
    console.error(redactSecrets(`learnsync: ${(err as Error).message}`));
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  void runCli(process.argv.slice(2));
}
