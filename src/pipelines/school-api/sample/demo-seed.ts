// `learnsync demo`/`dev` for the school API: nothing to load (the sample server generates its own
// data), only where the runs will read from.
import type { DemoSeeder } from '../../../stack/sample-kit/demo-seeder.js';

export const schoolApiSeeder: DemoSeeder = {
  name: 'school-api',
  async seed({ config, sources }) {
    if (!config.schoolApi.sample) return `real API at ${config.schoolApi.baseUrl}`;
    return `local sample server at ${(await sources.schoolApi()).baseUrl}`;
  },
};
