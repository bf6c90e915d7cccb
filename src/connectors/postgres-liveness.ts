// Why: a query on a connection whose network went silent (a blackholed route, a hung postmaster,
// a half-open TCP connection after a failover) never returns — no RST arrives, Node cannot set
// TCP_USER_TIMEOUT, and the kernel's keepalive gives up only after ~11 minutes. Meanwhile the
// activity's heartbeat timer keeps beating, so Temporal never times the attempt out either. This
// watchdog asks the server, on a fresh connection, whether it still answers while any pooled
// client is busy; after `failuresToAbort` probes in a row with no answer (a Postgres error *is* an
// answer: the server is alive) it destroys the busy clients' sockets, their queries reject with a
// connection error, and the job's retry policy takes over (retrying through the outage window).
import pg from 'pg';

export interface LivenessOptions {
  /** How often to probe while a client is checked out (ms); 0 turns the watchdog off. */
  probeEveryMs: number;
  /** How long one probe (connect + SELECT 1) may take (ms). */
  probeTimeoutMs: number;
  /** Probes in a row with no answer before busy connections are aborted. */
  failuresToAbort: number;
}

export const DEFAULT_LIVENESS: LivenessOptions = { probeEveryMs: 5_000, probeTimeoutMs: 5_000, failuresToAbort: 3 };

/** A probe outcome: the server answered (even with an error), or it did not (why). */
async function probe(connectionString: string, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'learnsync-liveness',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    // An SQLSTATE (too many connections, shutting down, auth) means a live server replied.
    if (typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code))
      return undefined;
    return (err as Error).message;
  } finally {
    // end() waits for the server; on a silent network it would hang, so the socket is just dropped.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

/** Watches `pool` (see the file comment); returns a function that stops watching. */
export function watchLiveness(
  pool: pg.Pool,
  connectionString: string,
  opts: LivenessOptions = DEFAULT_LIVENESS,
  onAbort: (reason: string, aborted: number) => void = () => {},
): () => void {
  if (opts.probeEveryMs <= 0) return () => {};
  const busy = new Set<pg.PoolClient>();
  pool.on('acquire', (c) => busy.add(c));
  pool.on('release', (_err, c) => busy.delete(c));
  pool.on('remove', (c) => busy.delete(c as pg.PoolClient));
  let failures = 0;
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    if (busy.size === 0) {
      failures = 0;
      return;
    }
    probing = true;
    void probe(connectionString, opts.probeTimeoutMs).then((noAnswer) => {
      probing = false;
      if (noAnswer === undefined) {
        failures = 0;
        return;
      }
      failures++;
      if (failures < opts.failuresToAbort) return;
      failures = 0;
      const reason =
        `Postgres did not answer ${opts.failuresToAbort} liveness probes in a row ` +
        `(${opts.probeTimeoutMs} ms each; last: ${noAnswer}): connection aborted so the job can retry`;
      let aborted = 0;
      for (const c of busy) {
        const stream = (c as unknown as { connection?: { stream?: { destroy(err?: Error): void } } }).connection
          ?.stream;
        if (stream) {
          stream.destroy(new Error(reason));
          aborted++;
        }
      }
      busy.clear();
      onAbort(reason, aborted);
    });
  }, opts.probeEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
