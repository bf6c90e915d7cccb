// The GitHub pipelines: Copilot metrics, Skills courses and enrolments, and learners' public events,
// read with conditional requests so unchanged resources cost no rate limit. Pure data: the workflow
// bundle imports this file.
import type { PipelineDefinition } from '../types.js';

export const githubNightly: PipelineDefinition = {
  name: 'github-nightly',
  kind: 'nightly',
  description: "GitHub: Copilot metrics, Skills courses and enrolments, learners' events (conditional requests)",
  nodes: [
    { id: 'github_copilot_metrics', activity: 'syncGithubCopilotMetrics', retryClass: 'long' },
    { id: 'github_skills', activity: 'syncGithubSkills', retryClass: 'long' },
    { id: 'github_user_events', activity: 'syncGithubUserEvents', retryClass: 'long' },
  ],
};

export const githubIncremental: PipelineDefinition = {
  name: 'github-incremental',
  kind: 'incremental',
  description: "GitHub: learners' new events since the last run (ETag: unchanged users cost no rate limit)",
  nodes: [{ id: 'github_user_events_incremental', activity: 'syncGithubUserEvents', retryClass: 'long' }],
};

export const GITHUB_PIPELINES = [githubNightly, githubIncremental];
