// Every node's lineage, composed from the families' lineage.ts files (so it lives at the edge, which may
// import every family), and the dataset graph the dashboard draws: who produces and who reads each dataset.
import { alertsLineage } from '../pipelines/alerts/lineage.js';
import { appDbLineage } from '../pipelines/app-db/lineage.js';
import { githubLineage } from '../pipelines/github/lineage.js';
import { learningRoiLineage } from '../pipelines/learning-roi/lineage.js';
import { learningSampleLineage } from '../pipelines/learning-sample/lineage.js';
import type { DatasetRef, FamilyLineage, NodeLineage } from '../pipelines/lineage-types.js';
import { getPipeline, listPipelines } from '../pipelines/registry.js';
import { schoolApiLineage } from '../pipelines/school-api/lineage.js';
import type { NodeInput, PipelineNode } from '../pipelines/types.js';
import { warehouseLineage } from '../pipelines/warehouse/lineage.js';

const FAMILIES: FamilyLineage[] = [
  warehouseLineage,
  learningRoiLineage,
  schoolApiLineage,
  githubLineage,
  learningSampleLineage,
  appDbLineage,
  alertsLineage,
];

export function nodeLineage(node: PipelineNode): NodeLineage {
  for (const family of FAMILIES) {
    const l = family(node);
    if (l) return l;
  }
  return { inputs: [], outputs: [] };
}

export const datasetKey = (d: Pick<DatasetRef, 'namespace' | 'name'>) => `${d.namespace}/${d.name}`;

export interface DatasetNode extends DatasetRef {
  key: string;
  producers: string[];
  consumers: string[];
}

/** Every dataset any node reads or writes, with the nodes (ids, unique across pipelines) on each side. */
export function datasetGraph(): { datasets: DatasetNode[]; nodes: { id: string; pipelines: string[] }[] } {
  const datasets = new Map<string, DatasetNode>();
  const nodes = new Map<string, Set<string>>();
  const touch = (d: DatasetRef) => {
    const key = datasetKey(d);
    const existing = datasets.get(key);
    if (existing) return existing;
    const created: DatasetNode = { ...d, key, producers: [], consumers: [] };
    datasets.set(key, created);
    return created;
  };
  for (const p of listPipelines())
    for (const n of p.nodes) {
      if (!nodes.has(n.id)) {
        nodes.set(n.id, new Set());
        const l = nodeLineage(n);
        for (const d of l.inputs) touch(d).consumers.push(n.id);
        for (const d of l.outputs) touch(d).producers.push(n.id);
      }
      nodes.get(n.id)!.add(p.name);
    }
  return {
    datasets: [...datasets.values()].sort((a, b) => a.key.localeCompare(b.key)),
    nodes: [...nodes].map(([id, ps]) => ({ id, pipelines: [...ps].sort() })),
  };
}

/** The lineage of the node an activity runs for (its pipeline's node, else any pipeline's node of that id). */
export function lineageOfInput(input: NodeInput): NodeLineage {
  const node =
    getPipeline(input.pipeline)?.nodes.find((n) => n.id === input.nodeId) ??
    listPipelines()
      .flatMap((p) => p.nodes)
      .find((n) => n.id === input.nodeId);
  return node ? nodeLineage(node) : { inputs: [], outputs: [] };
}
