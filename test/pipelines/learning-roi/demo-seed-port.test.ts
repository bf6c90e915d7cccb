// SAMPLE_KUSTO_PORT is honoured by the demo seeder too: it starts the sample Kusto server first
// (the worker's source clients then share it), so a seeder that ignored the port left the whole
// stack on a random one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { learningRoiSeeder } from '../../../src/pipelines/learning-roi/sample/demo-seed.js';
import { sampleKustoServer } from '../../../src/pipelines/learning-roi/sample/source.js';
import { freePort } from '../../../src/stack/ports.js';
import { createSourceClients } from '../../../src/stack/source-clients.js';
import { createTestDatabases, type TestDatabases } from '../../support/databases.js';

let db: TestDatabases;
beforeAll(async () => {
  db = await createTestDatabases();
});
afterAll(async () => {
  await db?.close();
});

describe('learning ROI demo seeder', () => {
  it('starts the sample Kusto server on SAMPLE_KUSTO_PORT', async () => {
    const port = await freePort();
    const scale = '0.011'; // a scale of its own: servers are shared per scale within a process
    const config = loadConfig({ SAMPLE_KUSTO_PORT: String(port), LEARNING_ROI_SAMPLE_SCALE: scale });
    const line = await learningRoiSeeder.seed({
      config,
      oltp: db.oltp,
      warehouse: db.warehouse,
      sources: createSourceClients(config),
      from: '2026-01-01',
      to: '2026-01-02',
    });
    expect(line).toContain(`sample Kusto at http://127.0.0.1:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/rest/auth/metadata`);
    expect(res.status).toBe(200);
    const { server } = await sampleKustoServer(Number(scale));
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    await server.close();
  });
});
