// A BigQuery client for an emulator (apiEndpoint) does not probe the GCE metadata server, so the
// demo prints no MetadataLookupWarning from the Google auth library.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createBigQueryClient } from '../../src/connectors/bigquery/client.js';

it('a client for an emulator emits no MetadataLookupWarning', async () => {
  delete process.env.METADATA_SERVER_DETECTION;
  const warnings: string[] = [];
  process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));
  const emulator = http
    .createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"datasets":[]}'))
    .listen(0, '127.0.0.1');
  await once(emulator, 'listening');
  try {
    const bq = createBigQueryClient({
      projectId: 'demo',
      apiEndpoint: `http://127.0.0.1:${(emulator.address() as AddressInfo).port}`,
    });
    const [datasets] = await bq.getDatasets();
    expect(datasets).toEqual([]);
    await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
    expect(warnings.filter((w) => w.startsWith('MetadataLookupWarning'))).toEqual([]);
  } finally {
    emulator.close();
  }
});
