// Why: a request to a source that stops answering — a blackholed route, a hung proxy — waits for
// its total timeout (30 s, 5 minutes for a report file), longer than an activity's 20-30 s heartbeat
// timeout, while the activity's heartbeat timer keeps it looking alive. A total timeout short
// enough would cut a large download on a slow but working link. So requests are abandoned on
// silence instead: no response headers, or no body bytes, for REQUEST_STALL_MS. A slow link that
// keeps delivering is never cut; a silent one is left in 15 s, and the connector retries it as a
// network outage (the abort is a TimeoutError).

/** Longest silence a request may meet: below every retry class's heartbeat timeout (20 s at the least). */
export const REQUEST_STALL_MS = 15_000;

/** A silent peer: named TimeoutError with code ETIMEDOUT, so every connector's classification sees an outage. */
export class PeerSilentError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

function stalled(url: string, ms: number, phase: string): PeerSilentError {
  return new PeerSilentError(`no answer from ${url} for ${Math.round(ms / 1000)} s (${phase}): timed out`);
}

/** `fetch`, abandoned after `stallMs` without a byte from the server (before the headers or between body chunks). */
export function stallGuardedFetch(stallMs: number = REQUEST_STALL_MS, fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const where = new URL(url).origin;
    const controller = new AbortController();
    let phase = 'waiting for the response';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(stalled(where, stallMs, phase)), stallMs);
      timer.unref();
    };
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    arm();
    let res: Response;
    try {
      res = await fetchImpl(input, { ...init, signal });
    } catch (err) {
      clearTimeout(timer);
      throw err;
    }
    if (!res.body || [101, 204, 205, 304].includes(res.status)) {
      clearTimeout(timer);
      return res;
    }
    phase = 'reading the response body';
    arm();
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          arm();
          out.enqueue(chunk);
        },
        flush() {
          clearTimeout(timer);
        },
      }),
    );
    const guarded = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperties(guarded, { url: { value: res.url }, redirected: { value: res.redirected } });
    return guarded;
  };
}
