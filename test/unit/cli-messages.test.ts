// What the CLI says without a server: help (the main variables, `help config` for all), the reason
// a date is not one, which end of a backfill range is wrong, and the overall progress line.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/client.js';
import { progressLine } from '../../src/cli/watch-run.js';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { whyNotADate } from '../../src/pipelines/dates.js';
import type { PipelineProgress } from '../../src/pipelines/types.js';
import { rangeProblem } from '../../src/workflows/backfill.js';

async function run(...argv: string[]) {
  const out: string[] = [];
  const code = await main(argv, (l = '') => out.push(l));
  return { code, out: out.join('\n') };
}

describe('help', () => {
  it('`--help` lists the commands and the five most used variables, not all of them', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const c of ['demo', 'dev', 'run', 'run-job', 'backfill', 'status', 'schedules', 'plan', 'profile'])
      expect(out).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    const shown = CONFIG_VARIABLES.filter((v) => new RegExp(`\\b${v}\\b`).test(out));
    expect(shown).toEqual([
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'WAREHOUSE_DATABASE_URL',
      'OLTP_DATABASE_URL',
      'LOG_LEVEL',
    ]);
    expect(out).toContain('`learnsync help config` lists all');
    expect((await run()).out).toBe(out);
  });

  it('`help config` lists every variable', async () => {
    const { code, out } = await run('help', 'config');
    expect(code).toBe(0);
    for (const v of CONFIG_VARIABLES) expect(out).toMatch(new RegExp(`\\b${v}\\b`));
  });
});

describe('dates and ranges name what is wrong', () => {
  it.each([
    ['2026-02-29', 'February 2026 has 28 days'],
    ['2026-04-31', 'April 2026 has 30 days'],
    ['2026-13-01', 'there is no month 13'],
    ['yesterday', 'it is not written YYYY-MM-DD'],
    ['2028-02-29', undefined],
  ])('%s', (date, why) => expect(whyNotADate(date)).toBe(why));

  it('a range', () => {
    expect(rangeProblem('2026-01-01', '2026-02-29')).toBe(
      'to "2026-02-29" is not a calendar date (February 2026 has 28 days)',
    );
    expect(rangeProblem('2026-00-01', '2026-02-01')).toBe(
      'from "2026-00-01" is not a calendar date (there is no month 00)',
    );
    expect(rangeProblem('2026-03-02', '2026-03-01')).toBe('from 2026-03-02 is after to 2026-03-01');
    expect(rangeProblem('2026-03-01', '2026-03-01')).toBeUndefined();
  });
});

it('the progress line: nodes done of all, elapsed, the longest-running node and its position', () => {
  const t0 = Date.UTC(2026, 0, 1);
  const node = (id: string, state: 'succeeded' | 'running' | 'pending', startedAt?: number) => ({
    id,
    activity: 'a',
    state,
    rows: 0,
    rejected: 0,
    startedAt,
  });
  const p: PipelineProgress = {
    pipeline: 'nightly',
    status: 'RUNNING',
    nodes: [
      node('a', 'succeeded', t0),
      node('b', 'running', t0 + 51_000),
      node('c', 'running', t0 + 60_000),
      node('d', 'pending'),
    ],
  };
  expect(progressLine(p, t0 + 70_000, t0, '{"page":12}')).toBe(
    '  … 1/4 nodes, 1 m 10 s; longest running: b for 19 s (at {"page":12})',
  );
});

describe('cdc', () => {
  it('refuses to start while WAREHOUSE_OLTP_CAPTURE is snapshot, and names unknown sources', async () => {
    const saved = process.env.WAREHOUSE_OLTP_CAPTURE;
    delete process.env.WAREHOUSE_OLTP_CAPTURE;
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((l: string) => void errors.push(l));
    try {
      expect((await run('cdc', 'start', 'oltp')).code).toBe(2);
      expect(errors.join('\n')).toMatch(/set WAREHOUSE_OLTP_CAPTURE=cdc/);
      expect((await run('cdc', 'status', 'billing')).code).toBe(2);
      expect(errors.join('\n')).toMatch(/unknown CDC source "billing": known sources are oltp/);
    } finally {
      spy.mockRestore();
      if (saved !== undefined) process.env.WAREHOUSE_OLTP_CAPTURE = saved;
    }
  });
});
