// Name → pipeline definition. Pure data, imported by both the client (to refuse unknown names
// before starting anything) and the workflows (to run them by name from schedules and the CLI).
import { learningRoi } from './learning-roi.js';
import { learningSample, learningSampleIncremental } from './learning-sample.js';
import { API_SOURCE_PIPELINES } from './api-sources.js';
import type { PipelineDefinition } from './types.js';
import { warehouseDimensions, warehouseFacts, warehouseNightly } from './warehouse.js';

const PIPELINES: readonly PipelineDefinition[] = [
  learningSample,
  learningSampleIncremental,
  warehouseDimensions,
  warehouseFacts,
  warehouseNightly,
  ...API_SOURCE_PIPELINES,
  learningRoi,
];

export const NIGHTLY_PIPELINE = 'learning-sample';

export function getPipeline(name: string): PipelineDefinition | undefined {
  return PIPELINES.find((p) => p.name === name);
}

export function listPipelines(): readonly PipelineDefinition[] {
  return PIPELINES;
}
