// Publishing a warehouse table to BigQuery: the same type mapping and load job as the app-db
// sync, for teams that outgrow one Postgres and keep every pipeline with BigQuery as a
// destination. A publish loads the table into a staging table (one load job) and replaces the
// BigQuery table with one CREATE OR REPLACE TABLE … AS SELECT — readers see the old table or the
// new one, its columns follow the warehouse's, a re-run gives the same table — then drops staging.
import type { SourceReader } from '../../connectors/app-db/source.js';
import {
  dropTable,
  ensureDataset,
  loadNdjson,
  qualifiedName,
  runQuery,
  type BigQueryTarget,
} from '../../connectors/bigquery/client.js';
import { ValidationError } from '../../errors.js';
import { sourceColumnsToTarget, toBigQueryValue } from './schema-mapping.js';
import type { RejectSink } from './rejects.js';

export interface PublishOutcome {
  table: string;
  destination: string;
  read: number;
  loaded: number;
  rejected: number;
  rejectReason: string | null;
}

export async function publishTable(
  target: BigQueryTarget,
  source: SourceReader,
  table: string,
  destination: string,
  onProgress?: (rows: number) => void,
  rejects?: RejectSink,
): Promise<PublishOutcome> {
  const sourceColumns = await source.columns(table);
  if (sourceColumns.length === 0)
    throw new ValidationError(`warehouse table ${table} does not exist in ${source.description}`);
  const columns = sourceColumnsToTarget(source.dialect, sourceColumns);
  const out: PublishOutcome = { table, destination, read: 0, loaded: 0, rejected: 0, rejectReason: null };
  let written = 0;
  async function* ndjson(): AsyncIterable<string> {
    let chunk: string[] = [];
    for await (const row of source.rows(table, { columns: columns.map((c) => c.name), orderBy: columns[0]!.name })) {
      out.read++;
      const o: Record<string, unknown> = {};
      let column: string | null = null;
      try {
        for (const c of columns) {
          column = c.name;
          o[c.name] = toBigQueryValue(row[c.name], c.type);
        }
      } catch (err) {
        out.rejected++;
        const reason = `${column}: ${(err as Error).message}`;
        out.rejectReason ??= reason;
        await rejects?.add({ key: null, cursorMs: null, column, reason, value: column && row[column], row });
        continue;
      }
      written++;
      chunk.push(JSON.stringify(o));
      if (chunk.length >= 500) {
        yield chunk.join('\n') + '\n';
        chunk = [];
        onProgress?.(out.read);
      }
    }
    if (chunk.length) yield chunk.join('\n') + '\n';
    await rejects?.flush();
  }
  await ensureDataset(target);
  // The whole table is read again: its earlier rejects are replaced.
  await rejects?.beginWindow(undefined);
  const staging = `_learnsync_pub_${destination}`;
  try {
    await dropTable(target, staging);
    const load = await loadNdjson(target, staging, ndjson(), { schema: columns, writeDisposition: 'WRITE_TRUNCATE' });
    if (load.outputRows !== written)
      throw new Error(`load job ${load.jobId} loaded ${load.outputRows} rows of ${table} but ${written} were sent`);
    await runQuery(
      target,
      `CREATE OR REPLACE TABLE ${qualifiedName(target, destination)} AS SELECT * FROM ${qualifiedName(
        target,
        staging,
      )}`,
      undefined,
      `publish ${destination}`,
    );
    out.loaded = load.outputRows;
  } finally {
    await dropTable(target, staging).catch(() => {});
  }
  return out;
}
