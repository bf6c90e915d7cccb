// Where the data files live and which ones exist: the CSV files of every family are written
// side by side in one folder (the seed's data/ folder, here <output>/learning-roi/), each recorded
// in etl_output_files, and sync_status.json lists them all. Families never import each other, so
// the folder, the record and the serialised sync_status.json writes are shared from here.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../connectors/files.js';
import type { Pool, PoolClient } from '../connectors/postgres.js';

/** The folder of the CSV data files and sync_status.json. */
export function dataFilesDir(outputDir: string): string {
  return path.join(outputDir, 'learning-roi');
}

export const SYNC_STATUS_FILE = 'sync_status.json';

export interface OutputFileStatus {
  rows: number;
  bytes: number;
  mode: string;
  written_at: string;
  job: string;
  target_date: string | null;
}

/** Records a file just written (inside the job's transaction, so the ledger and the list agree). */
export async function recordOutputFile(
  tx: Pool | PoolClient,
  f: { file: string; dir: string; pipeline?: string; jobName: string; targetDate?: string; rows: number },
): Promise<void> {
  const s = await stat(path.join(f.dir, f.file));
  await tx.query(
    `INSERT INTO etl_output_files (file, pipeline, job_name, target_date, rows, bytes, mode, written_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (file) DO UPDATE SET pipeline = EXCLUDED.pipeline, job_name = EXCLUDED.job_name,
       target_date = EXCLUDED.target_date, rows = EXCLUDED.rows, bytes = EXCLUDED.bytes, mode = EXCLUDED.mode,
       written_at = now()`,
    [
      f.file,
      f.pipeline ?? null,
      f.jobName,
      f.targetDate ?? null,
      f.rows,
      s.size,
      (s.mode & 0o777).toString(8).padStart(4, '0'),
    ],
  );
}

/** Every recorded output file, by name. */
export async function listOutputFiles(db: Pool | PoolClient): Promise<Record<string, OutputFileStatus>> {
  const { rows } = await db.query<{
    file: string;
    rows: string;
    bytes: string;
    mode: string;
    written_at: Date;
    job_name: string;
    target_date: string | null;
  }>(
    `SELECT file, rows, bytes, mode, written_at, job_name, to_char(target_date, 'YYYY-MM-DD') AS target_date
       FROM etl_output_files ORDER BY file`,
  );
  return Object.fromEntries(
    rows.map((r) => [
      r.file,
      {
        rows: Number(r.rows),
        bytes: Number(r.bytes),
        mode: r.mode,
        written_at: r.written_at.toISOString(),
        job: r.job_name,
        target_date: r.target_date,
      },
    ]),
  );
}

let writing: Promise<unknown> = Promise.resolve();

/** Runs sync_status.json writes of this process one after another, so the newest state lands last. */
export function serialisedStatusWrite<T>(fn: () => Promise<T>): Promise<T> {
  const next = writing.then(fn);
  writing = next.catch(() => undefined);
  return next;
}

/**
 * Refreshes the `files` section of sync_status.json from etl_output_files, keeping the rest of the
 * file as its owner wrote it (the owner's next full rewrite lists the same files).
 */
export function refreshSyncStatusFiles(db: Pool | PoolClient, outputDir: string): Promise<string> {
  const file = path.join(dataFilesDir(outputDir), SYNC_STATUS_FILE);
  return serialisedStatusWrite(async () => {
    let current: Record<string, unknown> = {};
    try {
      current = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch {
      // absent or unreadable: start afresh; the full rewrite fills in the rest
    }
    const files = await listOutputFiles(db);
    await writeFileAtomic(file, JSON.stringify({ ...current, files }, null, 2) + '\n');
    return file;
  });
}
