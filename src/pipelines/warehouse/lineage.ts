// The warehouse family's lineage, read from its own specs: each dimension and fact names the source
// tables its stage SELECTs read (the OLTP platform.* tables) and the dw.* table it writes, with
// the stage's columns as the schema. Pure: specs are data.
import type { DatasetRef, FamilyLineage } from '../lineage-types.js';
import { warehouseTable } from '../lineage-types.js';
import { DIMENSIONS } from './dimensions/specs.js';
import { FACT_FOCUS_EVENTS } from './facts/focus-events.js';
import { FACT_HOMEWORK_EVENTS } from './facts/homework-events.js';
import { FACT_LEARNING_PROGRESS } from './facts/learning-progress.js';
import { FACT_RECOMMENDATION_EVENTS } from './facts/recommendation-events.js';
import { FACT_SESSIONS } from './facts/sessions.js';
import type { FactDay } from './facts/spec.js';
import type { StageSpec } from './stage.js';

/** The OLTP source the stages copy from (SOURCE_DATABASE_URL). */
export const SOURCE_DB = 'postgres://source';
const FACTS = [
  FACT_SESSIONS,
  FACT_FOCUS_EVENTS,
  FACT_HOMEWORK_EVENTS,
  FACT_LEARNING_PROGRESS,
  FACT_RECOMMENDATION_EVENTS,
];
// Any day will do: the tables a stage reads do not depend on the date.
const DAY: FactDay = {
  date: '2000-01-01',
  dateKey: 20000101,
  dayStart: "'2000-01-01'",
  dayEnd: "'2000-01-02'",
  previousDate: "'1999-12-31'",
};

function sourcesOf(stages: StageSpec[]): DatasetRef[] {
  const names = new Set(
    stages.flatMap((s) => [...s.select.matchAll(/\b(?:FROM|JOIN)\s+(platform\.\w+)/gi)].map((m) => m[1]!)),
  );
  return [...names].sort().map((name) => ({ namespace: SOURCE_DB, name, kind: 'table' as const }));
}

export const warehouseLineage: FamilyLineage = (node) => {
  const dim = DIMENSIONS.find((d) => d.job === node.id);
  if (dim)
    return {
      inputs: sourcesOf([dim.stage]),
      outputs: [
        warehouseTable(
          dim.table,
          dim.stage.columns.map(([name, type]) => ({ name, type })),
        ),
      ],
    };
  const fact = FACTS.find((f) => f.job === node.id);
  if (fact)
    return {
      inputs: [
        ...sourcesOf(fact.stages(DAY)),
        ...[...new Set([...fact.candidates(DAY).matchAll(/\b(dw\.dim_\w+)/g)].map((m) => m[1]!))]
          .sort()
          .map((t) => warehouseTable(t)),
      ],
      outputs: [
        warehouseTable(
          fact.table,
          fact.columns.map((name) => ({ name })),
        ),
      ],
    };
  return undefined;
};
