// What `learnsync demo` and `learnsync dev` load before running: each pipeline family that reads a
// sample source contributes its seeder (from its own sample/ folder); the order is the demo's.
import { githubSeeder } from '../pipelines/github/sample/demo-seed.js';
import { learningRoiSeeder } from '../pipelines/learning-roi/sample/demo-seed.js';
import { learningSampleSeeder } from '../pipelines/learning-sample/sample/demo-seed.js';
import { schoolApiSeeder } from '../pipelines/school-api/sample/demo-seed.js';
import { warehouseSeeder } from '../pipelines/warehouse/sample/demo-seed.js';
import type { DemoSeeder } from './sample-kit/demo-seeder.js';

export type { DemoSeedContext, DemoSeeder } from './sample-kit/demo-seeder.js';

export const DEMO_SEEDERS: DemoSeeder[] = [
  learningSampleSeeder,
  warehouseSeeder,
  githubSeeder,
  schoolApiSeeder,
  learningRoiSeeder,
];

/** The seeders a run of `pipeline` needs: the composite nightly reads every family's sample; another
 * pipeline only its own family's (by name: school-api-nightly → school-api), which may be none
 * (app-db makes its sample database on first use). */
export function seedersFor(pipeline: string, composite: boolean): DemoSeeder[] {
  if (composite) return DEMO_SEEDERS;
  return DEMO_SEEDERS.filter((s) => pipeline === s.name || pipeline.startsWith(`${s.name}-`));
}
