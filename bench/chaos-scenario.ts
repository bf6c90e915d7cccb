// The worker process the chaos scenarios start, kill and restart (bench/chaos-sources.ts,
// bench/chaos-wire.ts): `src/worker.ts` under tsx with the bench's Temporal address and workflow
// bundle, a watchdog that SIGKILLs it if the bench dies, and every stdout and stderr line handed to
// the caller (stage lines to time kills by, the SDK's "Activity failed … durationMs" lines).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { watchChild } from '../src/stack/child-watchdog.js';

export interface BenchWorker {
  /** Starts the worker with `env` on top of the bench's; resolves once it says "worker started". */
  start(env: Record<string, string>, onLine: (line: string) => void): Promise<ChildProcess>;
  /** SIGKILLs the running worker, if any, and waits for it to be gone. */
  kill(): Promise<void>;
}

export function benchWorker(opts: { projectRoot: string; temporalAddress: string; bundlePath: string }): BenchWorker {
  let worker: ChildProcess | undefined;
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let buffered = '';
    stream.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const l of parts) onLine(l);
    });
  };
  return {
    async start(env, onLine) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(opts.projectRoot, 'src/worker.ts')], {
        cwd: opts.projectRoot,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: opts.temporalAddress,
          WORKFLOW_BUNDLE_PATH: opts.bundlePath,
          WORKER_SHUTDOWN_GRACE_SECONDS: '1',
          LOG_LEVEL: 'debug',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      watchChild(child.pid, 'SIGKILL');
      worker = child;
      const started = new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`worker exited before it started (code ${code})`)));
        lines(child.stdout!, (l) => {
          if (l.includes('worker started')) resolve();
          onLine(l);
        });
      });
      lines(child.stderr!, onLine);
      await started;
      return child;
    },
    async kill() {
      const w = worker;
      if (!w || w.exitCode !== null || w.signalCode !== null) return;
      const gone = new Promise((r) => w.once('exit', r));
      w.kill('SIGKILL');
      await gone;
    },
  };
}

export interface PipelineRun {
  workflowId: string;
  /** True once the run ended, either way. */
  done(): boolean;
  /** Resolves when it ended: null, or the failure's message. */
  outcome: Promise<string | null>;
}

/** Starts `pipeline` for 2026-03-01 (forced, 30-minute outage window) on `taskQueue`. */
export async function startPipelineRun(client: Client, taskQueue: string, pipeline: string): Promise<PipelineRun> {
  const workflowId = `${taskQueue}-${process.pid}`;
  const handle = await client.workflow.start('runPipeline', {
    taskQueue,
    workflowId,
    args: [{ pipeline, targetDate: '2026-03-01', force: true, outageWindowMinutes: 30 }],
  });
  let ended = false;
  const outcome = handle
    .result()
    .then(
      () => null,
      (err: Error) => err.message,
    )
    .finally(() => {
      ended = true;
    });
  return { workflowId, done: () => ended, outcome };
}
