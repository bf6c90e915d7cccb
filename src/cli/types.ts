// The contract between `learnsync` (src/client.ts) and its commands: one file per command in
// cli/commands/, registered in cli/commands/index.ts.
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../connectors/postgres.js';
import type { SourceClients } from '../runtime/deps.js';

export type OptionSpec = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }
>;

export interface CliArgs {
  positionals: string[];
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
}

export interface CliContext {
  config: Config;
  logger: Logger;
  /** Temporal client for TEMPORAL_ADDRESS or the local dev server; throws a one-line UsageError when unreachable. */
  temporal(): Promise<Client>;
  /** The Web UI base URL, when known. */
  uiUrl(): string | undefined;
  /** Warehouse pool (migrated): WAREHOUSE_DATABASE_URL/DATABASE_URL or the embedded Postgres, started if needed. */
  warehouse(): Promise<Pool>;
  /** OLTP source pool: OLTP_DATABASE_URL or the embedded Postgres. */
  oltp(): Promise<Pool>;
  /** Source connections, live or sample as the configuration says (chosen in stack/source-clients.ts). */
  sources: SourceClients;
  print(line?: string): void;
}

export interface CliCommand {
  name: string;
  /** One line for `learnsync --help`. */
  summary: string;
  usage: string;
  options?: OptionSpec;
  /** Returns the process exit code. Throw UsageError for bad input: one clear line, exit 2. */
  run(ctx: CliContext, args: CliArgs): Promise<number>;
}

/** Bad input from the user: printed as one line, exit code 2, nothing started. */
export class UsageError extends Error {
  override name = 'UsageError';
}
