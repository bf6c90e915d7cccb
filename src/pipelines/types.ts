// A pipeline is data: nodes that name an activity, what they depend on and how they retry.
// This module is imported by workflow code, so it stays pure (no I/O, no Node built-ins).

/** How long a node may run and how it retries; see workflows/retry-classes.ts. */
export type RetryClass = 'quick' | 'standard' | 'long';

/** nightly: one target date (default: yesterday, UTC). incremental: driven by stored cursors, no date. */
export type PipelineKind = 'nightly' | 'incremental';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface PipelineNode {
  id: string;
  /** Key of the activity in createActivities(); every node activity has the NodeActivity signature. */
  activity: string;
  dependsOn?: string[];
  retryClass?: RetryClass;
  /** Overrides of the class defaults, for nodes that need them. */
  retry?: { maximumAttempts?: number; initialIntervalSeconds?: number; maximumIntervalSeconds?: number };
  /** Overrides of the class timeouts; a short heartbeat timeout notices a dead worker sooner. */
  timeouts?: { startToCloseSeconds?: number; heartbeatSeconds?: number };
  /** Small static parameters handed to the activity (never rows). */
  input?: Record<string, JsonValue>;
}

export interface PipelineDefinition {
  name: string;
  kind: PipelineKind;
  description: string;
  nodes: PipelineNode[];
}

/** What every node activity receives. */
export interface NodeInput {
  pipeline: string;
  nodeId: string;
  /** YYYY-MM-DD for nightly pipelines, undefined for incremental ones. */
  targetDate?: string;
  force: boolean;
  params: Record<string, JsonValue>;
}

/** What every node activity returns: a small summary, never the rows themselves. */
export interface NodeResult {
  rows: number;
  inserted?: number;
  updated?: number;
  deleted?: number;
  rejected?: number;
  /** true when the ledger showed the job already succeeded for this target and force was off. */
  skipped?: boolean;
  /** Small facts worth showing: a table name, a cursor value, a file path. */
  detail?: Record<string, string | number | boolean>;
  /** How long the activity itself ran, measured in the worker (runtime/activity-timing.ts). */
  activityMs?: number;
}

export type NodeActivity = (input: NodeInput) => Promise<NodeResult>;

export type NodeState = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed' | 'cancelled';

export interface NodeProgress {
  id: string;
  activity: string;
  state: NodeState;
  rows: number;
  rejected: number;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  /** The activity's own execution time (last attempt), beside durationMs on the workflow's clock. */
  activityMs?: number;
  error?: string;
}

export type RunStatus = 'RUNNING' | 'SUCCESS' | 'FAILED';

export interface PipelineProgress {
  pipeline: string;
  targetDate?: string;
  status: RunStatus;
  nodes: NodeProgress[];
}

export interface PipelineRunInput {
  pipeline: string;
  /** YYYY-MM-DD; omitted for nightly pipelines → the day before the workflow started (UTC). */
  targetDate?: string;
  force?: boolean;
  /** Runs this definition instead of the registered one (tests, ad-hoc DAGs). */
  definition?: PipelineDefinition;
  /** How long infrastructure failures keep being retried (RETRY_OUTAGE_WINDOW_MINUTES; workflows cannot read env). */
  outageWindowMinutes?: number;
}

export interface BackfillInput {
  pipeline: string;
  from: string;
  to: string;
  concurrency?: number;
  force?: boolean;
  /** Children started per workflow run before continue-as-new keeps the history bounded. */
  maxChildrenPerRun?: number;
  /** Largest range accepted, in dates (default DEFAULT_MAX_BACKFILL_DATES): a typo cannot start 70,000 runs. */
  maxDates?: number;
  /** Backfills this definition instead of the registered one (tests, ad-hoc DAGs). */
  definition?: PipelineDefinition;
  /** Handed to every child run: see PipelineRunInput.outageWindowMinutes. */
  outageWindowMinutes?: number;
  /** Carried across continue-as-new; callers leave it out. */
  state?: BackfillState;
}

export interface BackfillState {
  nextIndex: number;
  succeeded: number;
  failed: string[];
  rows: number;
  runs: number;
}

export interface BackfillProgress {
  pipeline: string;
  from: string;
  to: string;
  total: number;
  done: number;
  succeeded: number;
  failed: string[];
  running: string[];
  rows: number;
  /** How many times this backfill has continued as new so far. */
  continuedAsNew: number;
}
