// A real Toxiproxy server (built by scripts/provision.sh with the machine's Go into .tools/) for the
// wire-fault tests: latency, bandwidth limits, resets and blackholes between learnsync and a peer.
// Absent binary (no Go on the machine): `toxiproxyBinary()` is undefined and the tests say so.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { freePort } from '../../src/stack/temporal-dev-server.js';

export const TOXIPROXY_VERSION = 'v2.5.0';

export function toxiproxyBinary(root = path.resolve(import.meta.dirname, '../..')): string | undefined {
  const bin = path.join(root, '.tools', `toxiproxy-${TOXIPROXY_VERSION}`, 'toxiproxy-server');
  return existsSync(bin) ? bin : undefined;
}

export interface ToxiproxyHandle {
  api: Toxiproxy;
  /** A proxy on a free local port in front of 127.0.0.1:`upstreamPort`; returns it and its port. */
  proxy(name: string, upstreamPort: number): Promise<{ proxy: Proxy; port: number }>;
  stop(): Promise<void>;
}

export async function startToxiproxy(bin: string): Promise<ToxiproxyHandle> {
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore' });
  const api = new Toxiproxy(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await api.getVersion();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`toxiproxy-server did not start on port ${port}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    api,
    async proxy(name, upstreamPort) {
      const listen = await freePort();
      const proxy = await api.createProxy({
        name,
        listen: `127.0.0.1:${listen}`,
        upstream: `127.0.0.1:${upstreamPort}`,
      });
      return { proxy, port: listen };
    },
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}

export type ToxiproxyProxy = Awaited<ReturnType<Toxiproxy['get']>>;

/** Adds toxics to `p`; the returned function removes exactly those. */
async function withToxics(
  p: ToxiproxyProxy,
  toxics: Array<{ name: string; type: string; stream: 'upstream' | 'downstream'; attributes: object }>,
): Promise<() => Promise<void>> {
  for (const t of toxics) await p.addToxic({ ...t, toxicity: 1 } as Parameters<ToxiproxyProxy['addToxic']>[0]);
  return async () => {
    for (const t of toxics) await (await p.getToxic(t.name)).remove();
  };
}

/** Latency with jitter and a bandwidth limit (KB/s) on what the peer sends back. */
export function slowLink(p: ToxiproxyProxy, o: { latencyMs: number; jitterMs: number; rateKBps: number }) {
  return withToxics(p, [
    { name: 'lag', type: 'latency', stream: 'downstream', attributes: { latency: o.latencyMs, jitter: o.jitterMs } },
    { name: 'thin', type: 'bandwidth', stream: 'downstream', attributes: { rate: o.rateKBps } },
  ]);
}

/** timeout 0 both ways: data stops and the connections stay open — a silent network, no RST. */
export function blackhole(p: ToxiproxyProxy) {
  return withToxics(p, [
    { name: 'hole-down', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
    { name: 'hole-up', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
  ]);
}

/** Every connection is closed once it has carried `bytes` in `stream`: a reset in mid-transfer. */
export function cutAfter(p: ToxiproxyProxy, bytes: number, stream: 'upstream' | 'downstream') {
  return withToxics(p, [{ name: 'cut', type: 'limit_data', stream, attributes: { bytes } }]);
}
