// A section of `learnsync status` (and of the server's status): each pipeline family exports its
// own, cli/ collects them. Sections need only the warehouse, so they do not depend on the CLI.
import type { Pool } from '../connectors/postgres.js';

export interface StatusContext {
  warehouse(): Promise<Pool>;
}

export interface StatusSection {
  title: string;
  render(ctx: StatusContext): Promise<string[]>;
  /** What `status --json` shows for this section. */
  json(ctx: StatusContext): Promise<unknown>;
}
