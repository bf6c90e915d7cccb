// Entry point of the workflow bundle: every workflow type the worker registers.
export { runPipeline, progressQuery } from './run-dag.js';
export { backfillPipeline, backfillProgressQuery } from './backfill.js';
export { cdcCapture, cdcProgressQuery, cdcStopSignal } from './cdc.js';
