// The warehouse ETL (the seed's etl_job_runs jobs), OLTP Postgres → warehouse Postgres:
//   warehouse-dimensions  hourly, no date: the five dimension syncs in parallel
//   warehouse-facts       one date (default yesterday): the five fact builds in parallel
//   warehouse-nightly     one date: dimensions, then each fact as soon as the dimensions it joins are in
// Node ids are the job names in the ledger, so `learnsync run-job build_fact_sessions --date D` finds them.
import type { PipelineDefinition, PipelineNode } from '../types.js';

const DIMENSION_NODES: PipelineNode[] = [
  { id: 'sync_dim_tenant', activity: 'syncDimTenant', retryClass: 'standard' },
  { id: 'sync_dim_learner', activity: 'syncDimLearner', retryClass: 'standard' },
  { id: 'sync_dim_user', activity: 'syncDimUser', retryClass: 'standard' },
  { id: 'sync_dim_subject', activity: 'syncDimSubject', retryClass: 'standard' },
  { id: 'sync_dim_skill', activity: 'syncDimSkill', retryClass: 'standard' },
];

/** Each fact with the dimensions its as-of joins read. */
const FACT_NODES: (PipelineNode & { dimensions: string[] })[] = [
  {
    id: 'build_fact_sessions',
    activity: 'buildFactSessions',
    dimensions: ['sync_dim_tenant', 'sync_dim_learner', 'sync_dim_subject'],
  },
  {
    id: 'build_fact_focus_events',
    activity: 'buildFactFocusEvents',
    dimensions: ['sync_dim_tenant', 'sync_dim_learner'],
  },
  {
    id: 'build_fact_homework_events',
    activity: 'buildFactHomeworkEvents',
    dimensions: ['sync_dim_tenant', 'sync_dim_learner', 'sync_dim_subject', 'sync_dim_user'],
  },
  {
    id: 'build_fact_learning_progress',
    activity: 'buildFactLearningProgress',
    dimensions: ['sync_dim_tenant', 'sync_dim_learner', 'sync_dim_skill', 'sync_dim_subject'],
  },
  {
    id: 'build_fact_recommendation_events',
    activity: 'buildFactRecommendationEvents',
    dimensions: ['sync_dim_tenant', 'sync_dim_learner', 'sync_dim_skill', 'sync_dim_subject'],
  },
];

export const warehouseDimensions: PipelineDefinition = {
  name: 'warehouse-dimensions',
  kind: 'incremental',
  description: 'OLTP → warehouse dimensions: tenant and learner as SCD2, user, subject and skill upserted (hourly)',
  nodes: DIMENSION_NODES,
};

export const warehouseFacts: PipelineDefinition = {
  name: 'warehouse-facts',
  kind: 'nightly',
  description: 'OLTP → warehouse facts for one date: sessions, focus, homework, learning progress, recommendations',
  nodes: FACT_NODES.map(({ dimensions: _, ...node }) => ({ ...node, retryClass: 'standard' })),
};

export const warehouseNightly: PipelineDefinition = {
  name: 'warehouse-nightly',
  kind: 'nightly',
  description: 'Dimensions, then facts for one date (default yesterday)',
  nodes: [
    ...DIMENSION_NODES,
    ...FACT_NODES.map(({ dimensions, ...node }) => ({
      ...node,
      dependsOn: dimensions,
      retryClass: 'standard' as const,
    })),
  ],
};

export const WAREHOUSE_PIPELINES = [warehouseDimensions, warehouseFacts, warehouseNightly] as const;
