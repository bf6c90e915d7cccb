// The BigQuery emulator under the child watchdog (issue 17): a process that started it and is then
// SIGKILLed leaves no emulator behind, and a fixed port that already answers is refused (naming the
// variable) instead of silently reusing whatever answers there. Real bqemulator, real processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { bigQueryEmulatorProvisioned, startBigQueryEmulator } from '../../src/stack/bigquery-emulator.js';
import { freePort } from '../../src/stack/temporal-dev-server.js';
import { projectRoot } from '../support/temporal.js';

const provisioned = bigQueryEmulatorProvisioned(projectRoot);
if (!provisioned) console.warn('emulator watchdog tests SKIPPED: bqemulator is not provisioned (.tools/bq-venv)');

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!provisioned)('BigQuery emulator and the child watchdog', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'learnsync-bqwatch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a SIGKILLed parent leaves no emulator running', async () => {
    const [rest, grpc] = [await freePort(), await freePort()];
    const script = path.join(dir, 'start-emulator.mts');
    const module = JSON.stringify(path.join(projectRoot, 'src/stack/bigquery-emulator.ts'));
    writeFileSync(
      script,
      `import { startBigQueryEmulator } from ${module};
       await startBigQueryEmulator({ projectRoot: ${JSON.stringify(projectRoot)}, projectId: 'learnsync-test',
         restPort: ${rest}, grpcPort: ${grpc} });
       console.log('READY');
       setInterval(() => {}, 60_000);`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        parent.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
        parent.once('exit', (code) => reject(new Error(`the parent exited early (${code})`)));
      });
      expect(await answers(rest)).toBe(true);
      parent.kill('SIGKILL');
      // The watchdog sends SIGTERM to the emulator's group at once, SIGKILL after 10 s.
      await until('emulator stopped after its parent was SIGKILLed', async () => !(await answers(rest)), 20_000);
      await until('gRPC port released', async () => !(await answers(grpc)), 5_000);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses a fixed port that already answers, naming the variable', async () => {
    const first = await startBigQueryEmulator({ projectRoot, projectId: 'learnsync-test' });
    try {
      const second = startBigQueryEmulator({
        projectRoot,
        projectId: 'learnsync-test',
        restPort: first.restPort,
        grpcPort: await freePort(),
      });
      await expect(second).rejects.toBeInstanceOf(ConfigError);
      await expect(second).rejects.toThrow(`BIGQUERY_EMULATOR_REST_PORT ${first.restPort} is already in use`);
    } finally {
      await first.stop();
    }
  }, 60_000);
});
