// Input checks shared by the commands: every bad input becomes one UsageError line before anything starts.
import { getPipeline, listPipelines } from '../pipelines/registry.js';
import { isValidDate } from '../pipelines/dates.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { planDag } from '../workflows/plan.js';
import { UsageError } from './types.js';

export function requirePipeline(name: string | undefined): PipelineDefinition {
  const names = listPipelines()
    .map((p) => p.name)
    .join(', ');
  if (!name) throw new UsageError(`name a pipeline: one of ${names}`);
  const def = getPipeline(name);
  if (!def) throw new UsageError(`unknown pipeline "${name}": known pipelines are ${names}`);
  planDag(def);
  return def;
}

export function optionalDate(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isValidDate(value)) {
    throw new UsageError(`${flag} must be a calendar date as YYYY-MM-DD, got "${String(value)}"`);
  }
  return value;
}

export function requireDate(value: unknown, flag: string): string {
  const d = optionalDate(value, flag);
  if (!d) throw new UsageError(`${flag} YYYY-MM-DD is required`);
  return d;
}

export function positiveInt(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new UsageError(`${flag} must be a whole number from 1 to 1000, got "${String(value)}"`);
  return n;
}

/** Finds the pipeline node a job name refers to, for `run-job`. */
export function findJob(job: string | undefined): { pipeline: PipelineDefinition; definition: PipelineDefinition } {
  if (!job) throw new UsageError('name a job, e.g. learnsync run-job extract_exam_results --date 2026-01-15');
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
