// The GitHub family's lineage: REST endpoints → github.* tables → CSV files.
import type { FamilyLineage, NodeLineage } from '../lineage-types.js';
import { apiEndpoint, outputFile, warehouseTable } from '../lineage-types.js';

/** GitHub's REST API (GITHUB_API_URL). */
export const GITHUB_API = 'https://api.github.com';
const copilot = ['github.copilot_daily', 'github.copilot_languages', 'github.copilot_user_daily'].map((t) =>
  warehouseTable(t),
);
const activity = warehouseTable('github.activity');

const BY_ACTIVITY: Record<string, NodeLineage> = {
  syncGithubCopilotMetrics: { inputs: [apiEndpoint(GITHUB_API, '/orgs/{org}/copilot/metrics')], outputs: copilot },
  syncGithubSkills: {
    inputs: [apiEndpoint(GITHUB_API, '/orgs/{org}/repos'), apiEndpoint(GITHUB_API, '/repos/{owner}/{repo}/forks')],
    outputs: [warehouseTable('github.skills_courses'), warehouseTable('github.skills_enrollments')],
  },
  syncGithubUserEvents: {
    inputs: [warehouseTable('github.tracked_users'), apiEndpoint(GITHUB_API, '/users/{username}/events')],
    outputs: [activity],
  },
  exportGithubFiles: {
    inputs: [...copilot, activity],
    outputs: ['copilot_daily.csv', 'copilot_languages.csv', 'github_activity.csv'].map((f) =>
      outputFile(`github/${f}`),
    ),
  },
};

export const githubLineage: FamilyLineage = (node) => BY_ACTIVITY[node.activity];
