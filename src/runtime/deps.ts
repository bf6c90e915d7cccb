import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../connectors/postgres.js';

/** What activities need from the outside world; built once by the worker (or a test). */
export interface ActivityDeps {
  warehouse: Pool;
  oltp: Pool;
  outputDir: string;
  logger: Logger;
  /** The whole validated config, for activities that need their own section (Kusto, GitHub, …). */
  config: Config;
}
