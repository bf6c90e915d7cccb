// Name → pipeline definition. Pure data, imported by both the client (to refuse unknown names
// before starting anything) and the workflows (to run them by name from schedules and the CLI).
import { learningSample, learningSampleIncremental } from './learning-sample.js';
import type { PipelineDefinition } from './types.js';
import { warehouseDimensions, warehouseFacts, warehouseNightly } from './warehouse.js';

const PIPELINES: readonly PipelineDefinition[] = [
  learningSample,
  learningSampleIncremental,
  warehouseDimensions,
  warehouseFacts,
  warehouseNightly,
];

export const NIGHTLY_PIPELINE = 'learning-sample';

export function getPipeline(name: string): PipelineDefinition | undefined {
  return PIPELINES.find((p) => p.name === name);
}

export function listPipelines(): readonly PipelineDefinition[] {
  return PIPELINES;
}
