// `dev` prints a feed of runs on the terminal; its worker's and server's log lines go to a file
// instead, so raw JSON never lands between two feed lines. One helper names the file for both
// the logger (client.ts) and the line that tells the user where it is (dev.ts).
import path from 'node:path';
import type { Config } from '../config.js';

/** Commands whose terminal output is a feed: their logs go to a file. */
export const FEED_COMMANDS = new Set(['dev']);

export function cliLogFile(config: Config, command: string): string {
  return path.join(config.dataDir, 'logs', `${command}.log`);
}
