// The demo's warehouse source: the generated OLTP platform for the demo's dates. On an empty
// warehouse the dimension history is replayed as the hourly sync would have seen it — a sync
// after the baseline and after each day — so SCD2 versions (renames, grade changes, deletions)
// exist for the facts' as-of joins, instead of one flat "current" version per key.
import { withTransaction, type Pool } from '../../../connectors/postgres.js';
import { syncDimension } from '../dimensions/sync.js';
import { DIMENSIONS } from '../dimensions/specs.js';
import { addDays } from '../../dates.js';
import { migrate } from '../../../warehouse/migrate.js';
import { seedOltpSource } from './generator.js';
import type { OltpScale } from './scale.js';
import type { DemoSeeder } from '../../../stack/sample-kit/demo-seeder.js';

export interface WarehouseDemoSeed {
  oltp: Pool;
  warehouse: Pool;
  from: string;
  to: string;
  scale: OltpScale;
}

export async function seedWarehouseDemo({ oltp, warehouse, from, to, scale }: WarehouseDemoSeed): Promise<string> {
  await migrate(warehouse);
  // A warehouse that already has dimensions keeps them: replaying old days over newer versions would rewrite history.
  const { rows } = await warehouse.query<{ n: number }>(
    'SELECT (SELECT count(*) FROM dw.dim_tenant) + (SELECT count(*) FROM dw.dim_learner) AS n',
  );
  const replay = Number(rows[0]!.n) === 0;
  const counts = await seedOltpSource(oltp, {
    from,
    to,
    scale,
    afterStep: replay
      ? async ({ kind, date }) => {
          const asOf = `${kind === 'baseline' ? date : addDays(date, 1)}T00:00:00Z`;
          for (const spec of DIMENSIONS)
            await withTransaction(warehouse, (tx) => syncDimension(oltp, tx, spec, { asOf }));
        }
      : undefined,
  });
  const n = (x: number) => x.toLocaleString('en-US');
  let summary =
    `${n(counts.tenants)} tenants, ${n(counts.learners)} learners, ${n(counts.sessions)} sessions, ` +
    `${n(counts.session_events)} session events (${n(counts.pending_late_events)} still in flight), ` +
    `${n(counts.homework_submissions)} homework, ` +
    `${n(counts.skill_mastery_daily)} mastery snapshots, ${n(counts.recommendation_events)} recommendation events`;
  if (replay) {
    const v = await warehouse.query<{ tenants: number; learners: number }>(
      `SELECT (SELECT count(*) FROM dw.dim_tenant)::int AS tenants,
          (SELECT count(*) FROM dw.dim_learner)::int AS learners`,
    );
    summary +=
      `; dimension history replayed: ` +
      `${n(v.rows[0]!.tenants)} tenant and ${n(v.rows[0]!.learners)} learner versions`;
  }
  return summary;
}

/** `learnsync demo`/`dev`: the generated OLTP platform, sized by OLTP_SAMPLE_*. */
export const warehouseSeeder: DemoSeeder = {
  name: 'warehouse',
  seed: ({ oltp, warehouse, from, to, config }) =>
    seedWarehouseDemo({ oltp, warehouse, from, to, scale: config.oltpSample }),
};
