// The GitHub pipelines: Copilot usage metrics reports, Skills courses and enrolments, and learners'
// public events (conditional requests where GitHub offers them, so unchanged resources cost no rate
// limit), then the five GitHub CSV files. Pure data: the workflow bundle imports this file.
import type { PipelineDefinition } from '../types.js';

export const githubNightly: PipelineDefinition = {
  name: 'github-nightly',
  kind: 'nightly',
  description:
    "GitHub: Copilot usage metrics reports, Skills courses and enrolments, learners' events " +
    '(conditional requests) → five CSV files',
  nodes: [
    { id: 'github_copilot_metrics', activity: 'syncGithubCopilotMetrics', retryClass: 'long' },
    { id: 'github_skills', activity: 'syncGithubSkills', retryClass: 'long' },
    { id: 'github_user_events', activity: 'syncGithubUserEvents', retryClass: 'long' },
    {
      id: 'github_export_files',
      activity: 'exportGithubFiles',
      dependsOn: ['github_copilot_metrics', 'github_skills', 'github_user_events'],
      retryClass: 'standard',
    },
  ],
};

export const githubIncremental: PipelineDefinition = {
  name: 'github-incremental',
  kind: 'incremental',
  description: "GitHub: learners' new events since the last run (ETag: unchanged users cost no rate limit)",
  nodes: [{ id: 'github_user_events_incremental', activity: 'syncGithubUserEvents', retryClass: 'long' }],
};

export const GITHUB_PIPELINES = [githubNightly, githubIncremental];
