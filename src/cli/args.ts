// Input checks shared by the commands: every bad input becomes one UsageError line before anything starts.
import { learnsyncHint } from './hints.js';
import { listPipelines } from '../pipelines/registry.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { UsageError } from './types.js';

// The run and backfill checks are shared with the HTTP API: they live beside the code that starts runs.
export { optionalDate, positiveInt, requireDate, requirePipeline } from '../schedules/start-runs.js';

/** Finds the pipeline node a job name refers to, for `run-job`. */
export function findJob(job: string | undefined): { pipeline: PipelineDefinition; definition: PipelineDefinition } {
  if (!job) throw new UsageError(`name a job, e.g. ${learnsyncHint('run-job extract_exam_results --date 2026-01-15')}`);
  for (const p of listPipelines()) {
    const node = p.nodes.find((n) => n.id === job);
    if (node) {
      return {
        pipeline: p,
        definition: {
          name: `job:${job}`,
          kind: p.kind,
          description: `single job ${job} of ${p.name}`,
          nodes: [{ ...node, dependsOn: [] }],
        },
      };
    }
  }
  const jobs = [...new Set(listPipelines().flatMap((p) => p.nodes.map((n) => n.id)))].sort().join(', ');
  throw new UsageError(`unknown job "${job}": known jobs are ${jobs}`);
}
