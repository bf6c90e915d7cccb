// Local ports: is one taken, which one is free. Default local ports sit below Linux's ephemeral
// range (32768-60999), where an outgoing connection could be holding them at random.
import net from 'node:net';

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port nothing listens on now, chosen by the kernel (for tests and for unset configuration). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/** The configured port when there is one, else a free one: benchmarks and sample servers use this. */
export async function configuredOrFreePort(configured: number | undefined): Promise<number> {
  return configured ?? (await freePort());
}
