// Postgres change data capture through logical replication (pgoutput): source administration and
// the batched, manually acknowledged consumer.
export * from './source.js';
export * from './stream.js';
