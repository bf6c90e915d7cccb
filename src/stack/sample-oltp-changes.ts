// The wiring's side of `learnsync dev` with CDC on: the sample OLTP source kept changing (the
// warehouse family's sample/live-changes.ts), chosen here because only the stack picks sample mode.
export { startSampleOltpChanges } from '../pipelines/warehouse/sample/live-changes.js';
