// What `learnsync demo` and `learnsync dev` load before running: each pipeline family that reads
// a sample source registers a seeder here. Seeders are idempotent (rerunning rewrites the same data).
import type { Config } from '../config.js';
import type { Pool } from '../connectors/postgres.js';
import { learningRoiSeeder } from '../pipelines/learning-roi/sample/demo-seed.js';
import { seedSampleSource } from '../pipelines/learning-sample/sample/source-data.js';
import { apiSourcesSeeder } from './api-demo-seed.js';
import { seedWarehouseDemo } from '../pipelines/warehouse/sample/demo-seed.js';

export interface DemoSeedContext {
  config: Config;
  oltp: Pool;
  warehouse: Pool;
  /** Dates the demo covers, inclusive. */
  from: string;
  to: string;
}

export interface DemoSeeder {
  name: string;
  /** Returns a one-line summary, e.g. "14,000 exam results, 5,120 emails". */
  seed(ctx: DemoSeedContext): Promise<string>;
}

export const DEMO_SEEDERS: DemoSeeder[] = [
  {
    name: 'learning-sample',
    async seed({ oltp, from, to, config }) {
      const r = await seedSampleSource(oltp, { from, to, examsPerDay: config.sample.examsPerDay });
      return `${r.exams.toLocaleString('en-US')} exam results, ${r.emails.toLocaleString('en-US')} user emails`;
    },
  },
  {
    name: 'warehouse',
    seed: ({ oltp, warehouse, from, to, config }) => seedWarehouseDemo({ oltp, warehouse, from, to, scale: config.oltpSample }),
  },
  apiSourcesSeeder,
  learningRoiSeeder,
];
