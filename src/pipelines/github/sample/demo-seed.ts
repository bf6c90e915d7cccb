// `learnsync demo`/`dev` for GitHub: in sample mode the learners whose events the sample server
// knows become the tracked users, so the events job has someone to read.
import type { DemoSeeder } from '../../../stack/sample-kit/demo-seeder.js';

export const githubSeeder: DemoSeeder = {
  name: 'github',
  async seed({ warehouse, sources }) {
    const gh = await sources.github();
    if (!gh.sampleUsers) return 'real API (GITHUB_TOKEN set)';
    const r = await warehouse.query(
      `INSERT INTO github.tracked_users (username, source) SELECT u, 'sample' FROM unnest($1::text[]) u
        ON CONFLICT (username) DO NOTHING`,
      [gh.sampleUsers],
    );
    return (
      `${gh.sampleUsers.length} sample GitHub learners tracked (${r.rowCount ?? 0} new), ` +
      `GitHub sample API at ${gh.baseUrl}`
    );
  },
};
