// Warehouse-side setup of the API sources' sample mode: the learners whose GitHub events the
// sample server knows are the ones the warehouse tracks.
import type { DemoSeeder } from './demo-seeders.js';
import { sampleGithub } from './sample-servers.js';

export const apiSourcesSeeder: DemoSeeder = {
  name: 'api-sources',
  async seed({ warehouse, config }) {
    const parts: string[] = [];
    if (config.github.sample) {
      const gh = await sampleGithub(config);
      const r = await warehouse.query(
        `INSERT INTO github.tracked_users (username, source) SELECT u, 'sample' FROM unnest($1::text[]) u ON CONFLICT (username) DO NOTHING`,
        [gh.usernames],
      );
      parts.push(`${gh.usernames.length} sample GitHub learners tracked (${r.rowCount ?? 0} new), GitHub sample API at ${gh.url}`);
    } else parts.push('GitHub: real API (GITHUB_TOKEN set)');
    parts.push(config.schoolApi.sample ? 'school API: local sample server (started by the worker on first use)' : `school API: ${config.schoolApi.baseUrl}`);
    return parts.join('; ');
  },
};
