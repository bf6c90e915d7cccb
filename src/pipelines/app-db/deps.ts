// What the app-db activities need from outside, handed in by the worker or a test: a BigQuery
// target and a reader of the application database. Whether those are the emulator and the sample
// SQLite file or the real thing is decided by the wiring (src/stack/app-db.ts), never here.
import type { BigQueryTarget } from '../../connectors/bigquery/client.js';
import type { SourceReader } from '../../connectors/app-db/source.js';
import type { ErrorReporter } from './error-reporter.js';

export interface AppDbDeps {
  /** Resolved lazily: the local emulator only starts when an app-db node first runs. */
  target(): Promise<BigQueryTarget>;
  /** A fresh reader per activity attempt; the activity closes it. */
  openSource(): Promise<SourceReader>;
  errorReporter?: ErrorReporter;
  /** Test seam: runs between the load job and the MERGE of every table. */
  beforeApply?: (table: string) => Promise<void>;
  close(): Promise<void>;
}
