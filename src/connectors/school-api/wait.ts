// Waiting politely: sleeps that end early when the caller is cancelled, and the backoff schedule
// shared by every retry of the API clients.

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return signal?.aborted ? Promise.reject(abortReason(signal)) : Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`cancelled: ${String(signal.reason ?? 'aborted')}`);
}

/** Exponential backoff with ±20 % jitter so that parallel workers do not retry in lockstep. */
export function backoffMs(attempt: number, opts: { baseMs?: number; maxMs?: number; scale?: number } = {}): number {
  const base = opts.baseMs ?? 1000;
  const max = opts.maxMs ?? 60_000;
  const raw = Math.min(max, base * 2 ** attempt);
  return Math.round(raw * (0.8 + Math.random() * 0.4) * (opts.scale ?? 1));
}

/** Retry-After is either delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header == null || header.trim() === '') return undefined;
  const n = Number(header);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}
