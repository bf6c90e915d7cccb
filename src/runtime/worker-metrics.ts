// /metrics of a worker (WORKER_METRICS_PORT): learnsync's series from prom-client followed by the
// Temporal SDK's own worker metrics, which the SDK runtime's Prometheus exporter serves on a
// loopback port of its own and which this endpoint passes through — one scrape target per worker.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TelemetryOptions } from '@temporalio/worker';
import { metricsRegistry } from './metrics.js';

let sdkMetricsUrl: string | undefined;

async function loopbackPort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Telemetry options for Runtime.install(): the SDK's Prometheus exporter on a private loopback port. */
export async function sdkMetricsTelemetry(): Promise<Pick<TelemetryOptions, 'metrics'>> {
  const port = await loopbackPort();
  sdkMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  return {
    metrics: {
      prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, useSecondsForDurations: true },
    },
  };
}

/** learnsync's series, then the SDK's when this process runs a worker with the exporter installed. */
export async function metricsText(extra?: () => Promise<void>): Promise<string> {
  await extra?.();
  const own = await metricsRegistry.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    return `${own}\n# Temporal SDK worker metrics\n${await res.text()}`;
  } catch {
    return own; // the exporter starts with the first worker; until then there is nothing to add
  }
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

export async function startWorkerMetricsServer(
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(req.method === 'GET' ? 404 : 405, {
        'content-type': 'text/plain',
        ...(req.method === 'GET' ? {} : { allow: 'GET' }),
      });
      res.end('only GET /metrics here\n');
      return;
    }
    metricsText().then(
      (text) => {
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
        res.end(text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics unavailable\n');
      },
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
