// Custom search attribute keys: written by the workflows, read by the CLI, the server and the runtime.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes that make runs filterable in the Web UI, e.g.
//   LearnsyncPipeline = "learning-sample" AND LearnsyncStatus = "FAILED"
export const PIPELINE_KEY = defineSearchAttributeKey('LearnsyncPipeline', SearchAttributeType.KEYWORD);
export const TARGET_DATE_KEY = defineSearchAttributeKey('LearnsyncTargetDate', SearchAttributeType.KEYWORD);
export const STATUS_KEY = defineSearchAttributeKey('LearnsyncStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [PIPELINE_KEY, TARGET_DATE_KEY, STATUS_KEY] as const;
