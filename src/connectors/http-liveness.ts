// Why: a call to an HTTP service on a silent network — a blackholed route, a hung proxy, a half-open
// connection — waits for its own timeout (the BigQuery client's 60 s per try and four tries; none at
// all for a load job's upload; a Kusto query's server timeout plus 30 s), while the activity's
// heartbeat timer keeps it looking alive. Those services may also be silent for good reasons (a
// Kusto query computing, a BigQuery job running), so silence alone cannot be cut, as stall-fetch.ts
// does for the REST sources. Instead, like postgres-liveness.ts: while calls to an origin are
// outstanding, the origin is asked on a fresh connection whether it answers at all — any HTTP status
// is an answer — and after `failuresToAbort` probes in a row without one, every outstanding call to
// it is abandoned with a PeerSilentError (an outage: the connector's retry policy takes over).
import http from 'node:http';
import https from 'node:https';
import { PeerSilentError } from './stall-fetch.js';

export interface HttpLivenessOptions {
  /** How often to probe while a call is outstanding (ms); 0 turns the watchdog off. */
  probeEveryMs: number;
  /** How long one probe may take (ms). */
  probeTimeoutMs: number;
  /** Probes in a row with no answer before the outstanding calls are abandoned. */
  failuresToAbort: number;
}

interface Watch {
  key: string;
  /** Each outstanding call's abandon, given why the origin was declared silent. */
  calls: Set<(reason: string) => void>;
  timer: NodeJS.Timeout;
  failures: number;
  probing: boolean;
}

/** Probes every 4 s with 4 s each, as many in a row as fit in `silenceSeconds` without an answer. */
export function livenessAfterSilence(silenceSeconds: number): HttpLivenessOptions {
  return {
    probeEveryMs: 4_000,
    probeTimeoutMs: 4_000,
    failuresToAbort: Math.max(1, Math.round(silenceSeconds / 4) - 1),
  };
}

/** A silent origin is left in about 16 s: below every retry class's heartbeat timeout in spirit. */
export const DEFAULT_HTTP_LIVENESS: HttpLivenessOptions = livenessAfterSilence(16);

const watches = new Map<string, Watch>();
/**
 * Origins declared silent and not heard from since: a call to one (a clean-up after the abandoned
 * call, the next step) is tried only after one probe answers, so an attempt meets the silence once
 * rather than once per call.
 */
const silentOrigins = new Set<string>();

/**
 * Undefined when the origin answered (any status), else why not. A connection of its own (no
 * agent, no keep-alive): a pooled socket the network already broke would fail the probe, not
 * the origin.
 */
function probe(origin: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const get = origin.startsWith('https:') ? https.get : http.get;
    const req = get(`${origin}/`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      req.destroy();
      resolve(undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(err.message));
  });
}

function watchOrigin(origin: string, opts: HttpLivenessOptions): Watch {
  const key = `${origin}|${opts.probeEveryMs}|${opts.probeTimeoutMs}|${opts.failuresToAbort}`;
  const existing = watches.get(key);
  if (existing) return existing;
  const watch: Watch = {
    key,
    calls: new Set(),
    failures: 0,
    probing: false,
    timer: setInterval(() => {
      if (watch.probing) return;
      watch.probing = true;
      void probe(origin, opts.probeTimeoutMs).then((noAnswer) => {
        watch.probing = false;
        if (noAnswer === undefined) {
          watch.failures = 0;
          silentOrigins.delete(origin);
          return;
        }
        if (++watch.failures < opts.failuresToAbort) return;
        watch.failures = 0;
        const reason =
          `${origin} did not answer ${opts.failuresToAbort} liveness probes in a row ` +
          `(${opts.probeTimeoutMs} ms each; last: ${noAnswer}): call abandoned so the job can retry`;
        silentOrigins.add(origin);
        for (const abandon of [...watch.calls]) abandon(reason);
      });
    }, opts.probeEveryMs),
  };
  watch.timer.unref();
  watches.set(key, watch);
  return watch;
}

/**
 * Runs `call` while its origin is watched (see the file comment). `call` gets a signal that aborts
 * when the origin is declared silent, to stop what it can (an upload); the returned promise rejects
 * then, whether or not `call` settles.
 */
export async function withLiveness<T>(
  url: string,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
  opts: HttpLivenessOptions = DEFAULT_HTTP_LIVENESS,
): Promise<T> {
  if (opts.probeEveryMs <= 0) return call(new AbortController().signal);
  const origin = new URL(url).origin;
  if (silentOrigins.has(origin)) {
    const noAnswer = await probe(origin, opts.probeTimeoutMs);
    if (noAnswer !== undefined)
      throw new PeerSilentError(`${what}: ${origin} still answers nothing (${noAnswer}): call not attempted`);
    silentOrigins.delete(origin);
  }
  const watch = watchOrigin(origin, opts);
  const controller = new AbortController();
  let abandon!: (reason: string) => void;
  const abandoned = new Promise<never>((_, reject) => {
    abandon = (reason) => {
      // Named by this call, not by whichever call started the origin's watch.
      const err = new PeerSilentError(`${what}: ${reason}`);
      controller.abort(err);
      reject(err);
    };
  });
  abandoned.catch(() => {});
  watch.calls.add(abandon);
  try {
    return await Promise.race([call(controller.signal), abandoned]);
  } finally {
    watch.calls.delete(abandon);
    if (watch.calls.size === 0) {
      clearInterval(watch.timer);
      watches.delete(watch.key);
    }
  }
}
