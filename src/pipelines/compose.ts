import type { PipelineDefinition } from './types.js';

/**
 * One DAG made of several pipelines of the same kind, side by side: their nodes keep their ids
 * (the ledger's job names) and dependencies, and the parts run in parallel. Node ids must be
 * unique across the parts; planDag rejects duplicates.
 */
export function composePipelines(
  name: string,
  description: string,
  parts: readonly PipelineDefinition[],
): PipelineDefinition {
  const kinds = new Set(parts.map((p) => p.kind));
  if (kinds.size !== 1) throw new Error(`pipeline ${name} mixes kinds: ${[...kinds].join(', ')}`);
  return { name, kind: parts[0]!.kind, description, nodes: parts.flatMap((p) => p.nodes) };
}
