// Pure DAG validation and ordering. The workflow uses it before starting any node, and the
// client uses it to refuse a bad pipeline before anything is started.
import type { PipelineDefinition } from '../pipelines/types.js';

export class InvalidPipelineError extends Error {
  override name = 'ValidationError';
}

/**
 * Checks ids are unique, dependencies exist and there is no cycle; returns the nodes in
 * layers, each layer depending only on earlier ones (the order the DAG can run in).
 */
export function planDag(def: PipelineDefinition): string[][] {
  if (def.nodes.length === 0) throw new InvalidPipelineError(`pipeline ${def.name} has no nodes`);
  const ids = new Set<string>();
  for (const n of def.nodes) {
    if (ids.has(n.id)) throw new InvalidPipelineError(`pipeline ${def.name}: duplicate node id "${n.id}"`);
    ids.add(n.id);
  }
  for (const n of def.nodes) {
    for (const dep of n.dependsOn ?? []) {
      if (!ids.has(dep))
        throw new InvalidPipelineError(`pipeline ${def.name}: node "${n.id}" depends on unknown node "${dep}"`);
      if (dep === n.id) throw new InvalidPipelineError(`pipeline ${def.name}: node "${n.id}" depends on itself`);
    }
  }
  const remaining = new Map(def.nodes.map((n) => [n.id, new Set(n.dependsOn ?? [])]));
  const layers: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([id]) => id);
    if (ready.length === 0) {
      throw new InvalidPipelineError(
        `pipeline ${def.name}: dependency cycle among ${[...remaining.keys()].join(', ')}`,
      );
    }
    layers.push(ready);
    for (const id of ready) remaining.delete(id);
    for (const deps of remaining.values()) for (const id of ready) deps.delete(id);
  }
  return layers;
}
