// Sections of `learnsync status`, beyond the ledger and running workflows. Each pipeline family
// may add one (API hits, sync_status.json, alerts …). `json` feeds `status --json`.
import type { CliContext } from './types.js';

export interface StatusSection {
  title: string;
  render(ctx: CliContext): Promise<string[]>;
  json(ctx: CliContext): Promise<unknown>;
}

export const STATUS_SECTIONS: StatusSection[] = [];
