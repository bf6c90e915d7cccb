// Name → pipeline definition. Pure data, imported by both the client (to refuse unknown names
// before starting anything) and the workflows (to run them by name from schedules and the CLI).
import { learningRoi } from './learning-roi/definition.js';
import { learningSample, learningSampleIncremental } from './learning-sample/definition.js';
import { GITHUB_PIPELINES, githubNightly } from './github/definition.js';
import { SCHOOL_API_PIPELINES, schoolApiNightly } from './school-api/definition.js';
import { composePipelines } from './compose.js';
import type { PipelineDefinition } from './types.js';
import { APP_DB_PIPELINES } from './app-db/definition.js';
import { warehouseDimensions, warehouseFacts, warehouseNightly } from './warehouse/definition.js';

/** What the night runs, and what `learnsync demo` shows: every dated pipeline in one DAG. */
export const nightly = composePipelines(
  'nightly',
  'Everything dated, side by side: warehouse dimensions then facts, learning ROI from Kusto, the school API and GitHub',
  [warehouseNightly, learningRoi, schoolApiNightly, githubNightly],
);

const PIPELINES: readonly PipelineDefinition[] = [
  nightly,
  learningSample,
  learningSampleIncremental,
  warehouseDimensions,
  warehouseFacts,
  warehouseNightly,
  ...SCHOOL_API_PIPELINES,
  ...GITHUB_PIPELINES,
  learningRoi,
  ...APP_DB_PIPELINES,
];

export const NIGHTLY_PIPELINE = nightly.name;

export function getPipeline(name: string): PipelineDefinition | undefined {
  return PIPELINES.find((p) => p.name === name);
}

export function listPipelines(): readonly PipelineDefinition[] {
  return PIPELINES;
}
