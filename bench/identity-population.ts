// Why: the identity bench needs ~1,000,000 learners in staging fast, without going through the
// sample Kusto server: one pass over the deterministic sample population COPYs each person's rows
// straight into the four staging tables. The same people always give the same rows, so a checksum
// of the resolved tables can be compared across runs and versions.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../src/connectors/postgres.js';
import { copyText } from '../src/pipelines/learning-roi/extract.js';
import { buildPerson, personRows } from '../src/pipelines/learning-roi/sample/data.js';
import { KUSTO_SOURCES, type KustoSourceSpec } from '../src/pipelines/learning-roi/sources.js';

export const PEOPLE_AT_1X = 82_000; // learning-roi/sample/data.ts PEOPLE_PER_SCALE

type Rows = ReturnType<typeof personRows>;
const STAGED: Array<[keyof Rows, KustoSourceSpec]> = [
  ['ace', KUSTO_SOURCES.ace_exam_results],
  ['pearson', KUSTO_SOURCES.pearson_exam_results],
  ['emails', KUSTO_SOURCES.user_emails],
  ['signups', KUSTO_SOURCES.user_signups],
];

/** One pass over the population, COPYing each person's rows into the four staging tables at once. */
async function stagePopulation(pool: Pool, people: number): Promise<Record<keyof Rows, number>> {
  const sinks = await Promise.all(
    STAGED.map(async ([, spec]) => {
      const client = await pool.connect();
      const cols = [
        ...(spec.windows.kind === 'hash' ? ['run_key', 'partition_key'] : []),
        ...spec.columns.map((c) => c.column),
      ];
      const stream = client.query(copyFrom(`COPY ${spec.stagingTable} (${cols.join(', ')}) FROM STDIN`));
      return { client, stream, done: finished(stream) };
    }),
  );
  try {
    const CHUNK = 2000;
    for (let p = 1; p <= people; p += CHUNK) {
      const texts = STAGED.map(() => '');
      for (let q = p; q < Math.min(p + CHUNK, people + 1); q++) {
        const rows = personRows(buildPerson(q));
        STAGED.forEach(([key, spec], i) => {
          for (const r of rows[key]) {
            const cells = spec.columns.map((c, k) => copyText(r[k], c));
            if (cells.some((x) => typeof x !== 'string')) continue; // the generator's deliberately bad rows
            texts[i] += `${spec.windows.kind === 'hash' ? 'bench\tp0of1\t' : ''}${cells.join('\t')}\n`;
          }
        });
      }
      await Promise.all(sinks.map((s, i) => (s.stream.write(texts[i]!) ? undefined : once(s.stream, 'drain'))));
    }
    for (const s of sinks) s.stream.end();
    await Promise.all(sinks.map((s) => s.done));
    return Object.fromEntries(STAGED.map(([key], i) => [key, Number(sinks[i]!.stream.rowCount ?? 0)])) as Record<
      keyof Rows,
      number
    >;
  } finally {
    for (const s of sinks) s.client.release();
  }
}

/** Stages `people` and marks their identity snapshots finished, as the extract runs would; returns rows per table. */
export async function stageIdentityInputs(pool: Pool, people: number): Promise<Record<keyof Rows, number>> {
  const counts = await stagePopulation(pool, people);
  await pool.query(
    `INSERT INTO etl_kusto_runs (run_key, source, job_name, plan, finished_at) VALUES ('bench', ` +
      `'user_emails', 'bench', '{}', now()), ('bench', 'user_signups', 'bench', '{}', now())`,
  );
  for (const t of ['kusto_ace_exam_results', 'kusto_pearson_exam_results', 'kusto_user_emails', 'kusto_user_signups'])
    await pool.query(`ANALYZE staging.${t}`);
  return counts;
}

/**
 * A checksum of everything identity resolution writes: learner_identities, identity_conflicts and
 * the job's rejects, each in a stable order (equal checksums = identical results).
 */
export async function identityChecksum(pool: Pool, job: string): Promise<string> {
  const { rows } = await pool.query<{ c: string }>(
    `SELECT md5(
       (SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s', email, dotcom_id, resolved_by,
       candidate_count, has_conflict), E'\n' ORDER BY email), '') FROM learning_roi.learner_identities)
       || '#' || (SELECT coalesce(string_agg(format('%s|%s|%s|%s', email, chosen_dotcom_id,
       chosen_source, candidates::text), E'\n' ORDER BY email), '') FROM learning_roi.identity_conflicts)
       || '#' || (SELECT coalesce(string_agg(format('%s|%s', reason, raw::text), E'\n' ORDER BY reason,
       raw::text), '') FROM etl_rejects WHERE job_name = $1)) AS c`,
    [job],
  );
  return rows[0]!.c;
}
