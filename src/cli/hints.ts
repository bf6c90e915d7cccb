// Why: every command a message suggests must work as printed. `learnsync` is on PATH only after
// `npm link`, and the provisioned `temporal` lives in .tools/venv/bin and needs the address and
// namespace this CLI used — so hints are built here, from the same configuration.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { temporalCliPath } from '../stack/tools.js';

let onPath: boolean | undefined;

/** True when a `learnsync` executable is on PATH (e.g. after `npm link`). */
function learnsyncOnPath(): boolean {
  onPath ??= (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, 'learnsync'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return onPath;
}

/** How to run a learnsync command from here: `learnsync …` when on PATH, else `npm run learnsync -- …`. */
export function learnsyncHint(args: string): string {
  return `${learnsyncOnPath() ? 'learnsync' : 'npm run learnsync --'} ${args}`;
}

/** A `temporal` command against the server this CLI talks to: the provisioned binary's full path,
 * --address, --namespace. */
export function temporalHint(config: Config, args: string): string {
  let binary = 'temporal';
  try {
    binary = temporalCliPath(config.projectRoot, config.temporal.cliPath);
  } catch {
    // not provisioned: a `temporal` of the user's own, on PATH
  }
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const auth =
    `${config.temporal.tls ? ' --tls' : ''}` + `${config.temporal.apiKey ? ' --api-key "$TEMPORAL_API_KEY"' : ''}`;
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  return `${quote(binary)} ${args} --address ${address} --namespace ${quote(config.temporal.namespace)}${auth}`;
}
