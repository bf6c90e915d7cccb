import type { Logger } from 'pino';
import type { Pool } from '../connectors/postgres.js';

/** What activities need from the outside world; built once by the worker (or a test). */
export interface ActivityDeps {
  warehouse: Pool;
  oltp: Pool;
  outputDir: string;
  logger: Logger;
}
