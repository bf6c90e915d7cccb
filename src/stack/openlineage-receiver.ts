// A small OpenLineage receiver for the sample stack: what Marquez's POST /api/v1/lineage accepts,
// kept in memory (the last 10,000 events) and listed at GET /api/v1/lineage, so a local run shows
// its lineage events without installing Marquez. Bodies are size-limited and must be RunEvents.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY = 1 << 20;
const MAX_EVENTS = 10_000;

export interface LineageReceiver {
  url: string;
  events: Record<string, unknown>[];
  close(): Promise<void>;
}

const isRunEvent = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { eventType?: unknown }).eventType === 'string' &&
  typeof (v as { run?: { runId?: unknown } }).run?.runId === 'string' &&
  typeof (v as { job?: { name?: unknown } }).job?.name === 'string';

export async function startLineageReceiver(port = 0, host = '127.0.0.1'): Promise<LineageReceiver> {
  const events: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url !== '/api/v1/lineage') return send(404, { error: 'only /api/v1/lineage' });
    if (req.method === 'GET') return send(200, { events });
    if (req.method !== 'POST') return send(405, { error: 'GET or POST' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(413, { error: 'body over 1 MiB' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      if (!isRunEvent(body))
        return send(422, { error: 'not an OpenLineage RunEvent (eventType, run.runId, job.name)' });
      events.push(body);
      if (events.length > MAX_EVENTS) events.shift();
      send(201, {});
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
