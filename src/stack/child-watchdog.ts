// Children of the local stack (the Temporal dev server, embedded Postgres) must not outlive the
// process that started them, however it ends: a clean stop, SIGINT/SIGTERM, an uncaught crash or a
// SIGKILL. Exit hooks cannot cover the last two, so a tiny watchdog process holds a pipe from us:
// when the pipe closes (we are gone, for whatever reason) it stops every child still registered —
// the signal each one asks for, then SIGKILL after a grace period. No prctl, no native module.
import { spawn, type ChildProcess } from 'node:child_process';

const WATCHDOG_SOURCE = `
const children = new Map();
let buf = '';
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [op, pid, signal] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    if (op === '+') children.set(Number(pid), signal || 'SIGTERM');
    else children.delete(Number(pid));
  }
});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
process.stdin.on('close', () => {
  for (const [pid, signal] of children) { try { process.kill(pid, signal); } catch {} }
  const deadline = Date.now() + ${10_000};
  const poll = setInterval(() => {
    const left = [...children.keys()].filter(alive);
    if (left.length === 0 || Date.now() > deadline) {
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch {} }
      clearInterval(poll);
      process.exit(0);
    }
  }, 100);
});
`;

let watchdog: ChildProcess | undefined;

function ensureWatchdog(): ChildProcess | undefined {
  if (watchdog && watchdog.exitCode === null && watchdog.stdin?.writable) return watchdog;
  try {
    // Its own process group, so a Ctrl-C to ours does not stop it before it has done its job.
    const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    child.unref();
    // The pipe must not keep this process alive either.
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog = child;
    return child;
  } catch {
    return undefined;
  }
}

/**
 * Stop `pid` with `signal` (then SIGKILL) if this process ends without unwatching it. A negative
 * pid stands for the process group it leads (a detached child and everything it spawned).
 */
export function watchChild(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!pid) return;
  ensureWatchdog()?.stdin?.write(`+ ${pid} ${signal}\n`);
}

/** The child was stopped on purpose (or has exited): nothing to do for it any more. */
export function unwatchChild(pid: number | undefined): void {
  if (!pid || !watchdog?.stdin?.writable) return;
  watchdog.stdin.write(`- ${pid}\n`);
}
