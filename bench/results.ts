// Where every bench's one JSON line is also kept (issue 19): appended to .data/bench/results.jsonl
// (BENCH_RESULTS overrides) with when it ran and on what machine, so `npm run bench:report` can
// rebuild the README's figures from what benches printed and from nothing else.
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_FILE =
  process.env.BENCH_RESULTS ?? path.resolve(import.meta.dirname, '..', '.data', 'bench', 'results.jsonl');

export interface MachineNote {
  cores: number;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the bench finished. */
  load1: number;
}

export function machineNote(): MachineNote {
  return {
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load1: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** Appends one bench's JSON line (as printed) with its time and machine. */
export function recordResult(line: Record<string, unknown>, file = RESULTS_FILE): void {
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, JSON.stringify({ ...line, at: new Date().toISOString(), machine: machineNote() }) + '\n');
}
