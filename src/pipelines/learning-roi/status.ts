// sync_status.json: for every dataset its rows, last successful sync, duration, source, status and
// errors; the state of every Kusto source; the latest quality-gate results. Built from the
// warehouse (the truth) and written atomically, by whichever stage changed something — so it also
// tells the truth when a run failed before reaching its export.
import { redactSecrets } from '../../secrets.js';
import path from 'node:path';
import type { StatusSection } from '../../runtime/status-section.js';
import { writeFileAtomic } from '../../connectors/files.js';
import {
  dataFilesDir,
  listOutputFiles,
  serialisedStatusWrite,
  type OutputFileStatus,
} from '../../runtime/output-files.js';
import type { Pool, PoolClient } from '../../connectors/postgres.js';
import type { SourceName } from './sources.js';
import { learningRoi } from './definition.js';

export const PIPELINE_NAME = learningRoi.name;

export const DATASETS = [
  'certified_users',
  'unified_users',
  'individual_exams',
  'product_usage',
  'learning_activity',
] as const;
export type DatasetName = (typeof DATASETS)[number];

const IDENTITY: SourceName[] = ['ace_exam_results', 'pearson_exam_results', 'user_emails', 'user_signups'];
/** Which Kusto sources each dataset is built from. */
export const DATASET_SOURCES: Record<DatasetName, SourceName[]> = {
  certified_users: IDENTITY,
  individual_exams: IDENTITY,
  unified_users: [...IDENTITY, 'product_usage', 'page_views'],
  product_usage: [...IDENTITY, 'product_usage'],
  learning_activity: [...IDENTITY, 'page_views'],
};

export function roiOutputDir(outputDir: string): string {
  return dataFilesDir(outputDir);
}

export interface DatasetStatus {
  status: 'success' | 'failed' | 'stale' | 'never synced';
  rows: number | null;
  last_successful_sync: string | null;
  duration_ms: number | null;
  source: string | null;
  file: string | null;
  errors: string[];
}

export interface SourceStatus {
  status: string;
  rows: number;
  rejected: number;
  windows: number;
  target_date: string | null;
  last_attempt: string;
  last_successful_sync: string | null;
  duration_ms: number | null;
  errors: string[];
}

export interface GateStatus {
  gate: string;
  mode: string;
  status: string;
  observed: number | null;
  expected: string;
  note: string;
  checked_at: string;
  target_date: string | null;
}

export interface SyncStatus {
  pipeline: string;
  generated_at: string;
  datasets: Record<DatasetName, DatasetStatus>;
  sources: Record<string, SourceStatus>;
  quality_gates: GateStatus[];
  /** Every data file other jobs recorded in etl_output_files (the GitHub CSVs, …). */
  files: Record<string, OutputFileStatus>;
}

type Db = Pool | PoolClient;
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export async function buildSyncStatus(db: Db): Promise<SyncStatus> {
  const sources = await db.query<{
    source: string;
    status: string;
    rows: string;
    rejected: string;
    windows: number;
    target_date: string | null;
    last_attempt_at: Date;
    last_success_at: Date | null;
    duration_ms: number | null;
    error: string | null;
  }>(`SELECT source, status, rows, rejected, windows, to_char(target_date, 'YYYY-MM-DD') AS target_date,
        last_attempt_at, last_success_at, duration_ms, error
        FROM learning_roi.source_syncs ORDER BY source`);
  const srcOut: Record<string, SourceStatus> = {};
  for (const s of sources.rows) {
    srcOut[s.source] = {
      status: s.status,
      rows: Number(s.rows),
      rejected: Number(s.rejected),
      windows: s.windows,
      target_date: s.target_date,
      last_attempt: s.last_attempt_at.toISOString(),
      last_successful_sync: isoOrNull(s.last_success_at),
      duration_ms: s.duration_ms,
      errors: s.error ? [s.error] : [],
    };
  }
  const { rows: syncs } = await db.query<{
    dataset: string;
    status: string;
    rows: string;
    duration_ms: number | null;
    source: string;
    file: string | null;
    error: string | null;
    synced_at: Date | null;
    built_at: Date;
    last_success_at: Date | null;
    last_success_rows: string | null;
    last_success_ms: number | null;
    last_success_file: string | null;
  }>(
    `SELECT DISTINCT ON (d.dataset) d.dataset, d.status, d.rows,
            coalesce(d.build_ms, 0) + coalesce(d.export_ms, 0) AS duration_ms,
            d.source, d.file, d.error, d.synced_at, d.built_at,
            s.synced_at AS last_success_at, s.rows AS last_success_rows,
            coalesce(s.build_ms, 0) + coalesce(s.export_ms, 0) AS last_success_ms,
            s.file AS last_success_file
       FROM learning_roi.dataset_syncs d
       LEFT JOIN LATERAL (SELECT * FROM learning_roi.dataset_syncs x WHERE x.dataset = d.dataset
         AND x.status = 'success'
                           ORDER BY x.id DESC LIMIT 1) s ON true
      ORDER BY d.dataset, d.id DESC`,
  );
  const datasets = {} as Record<DatasetName, DatasetStatus>;
  for (const name of DATASETS) {
    const d = syncs.find((r) => r.dataset === name);
    const lastSuccess = d?.last_success_at ?? null;
    // A source that failed after the last good export makes the dataset stale, with the source's error.
    const failing = DATASET_SOURCES[name]
      .map((s) => [s, srcOut[s]] as const)
      .filter(([, s]) => s?.status === 'failed' && (!lastSuccess || s.last_attempt > lastSuccess.toISOString()));
    const errors = [
      ...(d?.status === 'failed' && d.error ? [d.error] : []),
      ...failing.map(([n, s]) => `${n}: ${s!.errors[0] ?? 'failed'}`),
    ];
    datasets[name] = {
      status: !d
        ? failing.length
          ? 'failed'
          : 'never synced'
        : d.status === 'failed'
          ? 'failed'
          : failing.length
            ? 'stale'
            : lastSuccess
              ? 'success'
              : 'never synced',
      rows: d?.last_success_rows != null ? Number(d.last_success_rows) : null,
      last_successful_sync: isoOrNull(lastSuccess),
      duration_ms: d?.last_success_ms ?? null,
      source: d?.source ?? null,
      file: d?.last_success_file ?? null,
      errors,
    };
  }
  const gates = await db.query<{
    gate: string;
    mode: string;
    status: string;
    observed: number | null;
    expected: string;
    note: string;
    checked_at: Date;
    target_date: string | null;
  }>(
    // One check writes all its gates in one statement, so they share checked_at.
    `SELECT g.gate, g.mode, g.status, g.observed, g.expected, g.note, g.checked_at,
       to_char(g.target_date, 'YYYY-MM-DD') AS target_date
       FROM etl_quality_gates g
      WHERE g.pipeline = $1 AND g.checked_at = (SELECT max(checked_at) FROM etl_quality_gates WHERE pipeline = $1)
      ORDER BY g.id`,
    [PIPELINE_NAME],
  );
  return {
    pipeline: PIPELINE_NAME,
    generated_at: new Date().toISOString(),
    datasets,
    sources: srcOut,
    quality_gates: gates.rows.map((g) => ({ ...g, checked_at: g.checked_at.toISOString() })),
    files: await listOutputFiles(db),
  };
}

/** Rebuilds sync_status.json; writes from one process (any family's) are serialised so the newest state lands last. */
export function writeSyncStatus(db: Db, outputDir: string): Promise<string> {
  const file = path.join(roiOutputDir(outputDir), 'sync_status.json');
  return serialisedStatusWrite(async () => {
    const status = await buildSyncStatus(db);
    await writeFileAtomic(file, JSON.stringify(status, null, 2) + '\n');
    return file;
  });
}

/** The state of one Kusto source, written outside any job transaction so failures are kept. */
export async function recordSourceSync(
  db: Db,
  s: {
    source: string;
    status: 'running' | 'success' | 'failed';
    targetDate?: string;
    rows?: number;
    rejected?: number;
    windows?: number;
    durationMs?: number;
    error?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO learning_roi.source_syncs (source, status, target_date, rows, rejected, windows, duration_ms, error,
     last_attempt_at, last_success_at)
     VALUES ($1, $2, $3, coalesce($4, 0), coalesce($5, 0), coalesce($6, 0), $7, $8, now(), CASE WHEN $2 = 'success'
       THEN now() END)
     ON CONFLICT (source) DO UPDATE SET status = EXCLUDED.status, target_date = EXCLUDED.target_date,
       rows = CASE WHEN EXCLUDED.status = 'success' THEN EXCLUDED.rows ELSE learning_roi.source_syncs.rows END,
       rejected = CASE WHEN EXCLUDED.status = 'success' THEN EXCLUDED.rejected
         ELSE learning_roi.source_syncs.rejected END,
       windows = CASE WHEN EXCLUDED.status = 'success' THEN EXCLUDED.windows ELSE learning_roi.source_syncs.windows END,
       duration_ms = coalesce(EXCLUDED.duration_ms, learning_roi.source_syncs.duration_ms),
       error = EXCLUDED.error, last_attempt_at = now(),
       last_success_at = coalesce(EXCLUDED.last_success_at, learning_roi.source_syncs.last_success_at)`,
    [
      s.source,
      s.status,
      s.targetDate ?? null,
      s.rows ?? null,
      s.rejected ?? null,
      s.windows ?? null,
      s.durationMs ?? null,
      s.error === undefined ? null : redactSecrets(s.error),
    ],
  );
}

const fmt = (n: number | null) => (n === null ? '-' : n.toLocaleString('en-US'));

/** The `learnsync status` section: the same content as sync_status.json, read from the warehouse. */
export const learningRoiStatusSection: StatusSection = {
  title: 'Learning ROI (sync_status.json)',
  async render(ctx) {
    const s = await buildSyncStatus(await ctx.warehouse());
    const lines = DATASETS.map((name) => {
      const d = s.datasets[name];
      return (
        `${name.padEnd(18)} ${d.status.padEnd(12)} ${fmt(d.rows).padStart(9)} rows  last ok ` +
        `${d.last_successful_sync?.slice(0, 19) ?? 'never'}` +
        `${d.duration_ms !== null ? `  ${d.duration_ms} ms` : ''}` +
        `${d.errors.length ? `  ${d.errors.join('; ').slice(0, 120)}` : ''}`
      );
    });
    for (const [name, src] of Object.entries(s.sources)) {
      lines.push(
        `source ${name.padEnd(21)} ${src.status.padEnd(8)} ${fmt(src.rows).padStart(9)} rows  ${src.windows} windows${
          src.rejected ? `  ${fmt(src.rejected)} rejected` : ''
        }${src.errors.length ? `  ${src.errors[0]!.slice(0, 120)}` : ''}`,
      );
    }
    for (const g of s.quality_gates)
      lines.push(`gate ${g.gate.padEnd(32)} ${g.status.padEnd(5)} ${g.note} (expected ${g.expected}, ${g.mode} mode)`);
    return lines.length ? lines : ['never run — try `learnsync run learning-roi`'];
  },
  async json(ctx) {
    return buildSyncStatus(await ctx.warehouse());
  },
};
