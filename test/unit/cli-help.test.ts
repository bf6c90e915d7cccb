// Per-command help and "did you mean": `help run` and `run --help` print run's usage and flags
// (exit 0, nothing started), an unknown command names the closest ones and a --help hint that
// runs as printed from here (`npm run learnsync --` unless `learnsync` is on PATH).
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/client.js';

const errors: string[] = [];
afterEach(() => {
  errors.length = 0;
  vi.restoreAllMocks();
});

async function cli(...argv: string[]) {
  errors.length = 0;
  vi.spyOn(console, 'error').mockImplementation((l: string) => void errors.push(l));
  const out: string[] = [];
  const code = await main(argv, (l = '') => out.push(l));
  return { code, out: out.join('\n'), err: errors.join('\n') };
}

it('help <command> and <command> --help print that command', async () => {
  for (const argv of [
    ['help', 'backfill'],
    ['backfill', '--help'],
    ['backfill', '-h'],
  ]) {
    const r = await cli(...argv);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^learnsync backfill — run a nightly pipeline/);
    expect(r.out).toContain('usage: learnsync backfill <pipeline> --from YYYY-MM-DD');
    expect(r.out).toContain('--concurrency <value>');
    expect(r.out).not.toContain('commands:'); // not the global help
  }
});

it('an unknown command suggests the closest commands and a hint that runs from here', async () => {
  const prevPath = process.env.PATH;
  process.env.PATH = '/nonexistent'; // no `learnsync` on PATH
  try {
    const r = await cli('rn');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "rn": did you mean "run"/);
    expect(r.err).toContain('`npm run learnsync -- --help`');
    const far = await cli('frobnicate');
    expect(far.err).not.toContain('did you mean');
    expect((await cli('help', 'statsu')).err).toMatch(/did you mean "status"/);
  } finally {
    process.env.PATH = prevPath;
  }
});
