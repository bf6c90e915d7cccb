// The contract between `learnsync demo`/`dev` and each family's sample: a seeder loads the family's
// sample source for the demo's dates and says in one line what it loaded. Seeders are idempotent.
import type { Config } from '../../config.js';
import type { Pool } from '../../connectors/postgres.js';
import type { SourceClients } from '../../runtime/deps.js';

export interface DemoSeedContext {
  config: Config;
  oltp: Pool;
  warehouse: Pool;
  /** The source connections the worker uses (sample servers where no credentials are set). */
  sources: SourceClients;
  /** Dates the demo covers, inclusive. */
  from: string;
  to: string;
}

export interface DemoSeeder {
  name: string;
  /** Returns a one-line summary, e.g. "14,000 exam results, 5,120 emails". */
  seed(ctx: DemoSeedContext): Promise<string>;
}
