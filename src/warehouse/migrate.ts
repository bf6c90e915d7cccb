// Versioned migrations, applied in order, each in its own transaction, under an advisory lock
// so that several workers starting at once apply each migration exactly once.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import * as m001 from './migrations/001_ledger.js';
import * as m002 from './migrations/002_learning_sample.js';
import * as m010 from './migrations/010_warehouse_dimensions.js';
import * as m011 from './migrations/011_warehouse_facts.js';
import * as m012 from './migrations/012_ledger_alerts.js';
import * as m013 from './migrations/013_ledger_attempts.js';
import * as m015 from './migrations/015_scd2_clamped_times.js';
import * as m020 from './migrations/020_kusto_extraction.js';
import * as m021 from './migrations/021_learning_roi.js';
import * as m022 from './migrations/022_quality_gates.js';
import * as m023 from './migrations/023_email_identity.js';
import * as m030 from './migrations/030_api_sources.js';
import * as m031 from './migrations/031_school.js';
import * as m032 from './migrations/032_github.js';
import * as m033 from './migrations/033_github_copilot_reports.js';
import * as m034 from './migrations/034_github_nullable_events.js';
import * as m035 from './migrations/035_output_files.js';
import * as m040 from './migrations/040_app_db.js';
import * as m050 from './migrations/050_api_tokens.js';
import * as m051 from './migrations/051_alerts.js';
import * as m060 from './migrations/060_api_token_expiry.js';
import * as m061 from './migrations/061_ledger_per_run.js';
import * as m065 from './migrations/065_etl_rejects_runs.js';
import * as m066 from './migrations/066_app_db_privacy_state.js';
import * as m067 from './migrations/067_app_db_target_rows.js';
import * as m068 from './migrations/068_app_db_change_seq.js';
import * as m080 from './migrations/080_cdc_slot_state.js';
import * as m090 from './migrations/090_identity_work_tables.js';
import * as m100 from './migrations/100_api_token_names.js';
import * as m110 from './migrations/110_cdc_app_db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'ledger', sql: m001.sql },
  { version: 2, name: 'learning_sample', sql: m002.sql },
  { version: 10, name: 'warehouse_dimensions', sql: m010.sql },
  { version: 11, name: 'warehouse_facts', sql: m011.sql },
  { version: 12, name: 'ledger_alerts', sql: m012.sql },
  { version: 13, name: 'ledger_attempts', sql: m013.sql },
  { version: 15, name: 'scd2_clamped_times', sql: m015.sql },
  { version: 20, name: 'kusto_extraction', sql: m020.sql },
  { version: 21, name: 'learning_roi', sql: m021.sql },
  { version: 22, name: 'quality_gates', sql: m022.sql },
  { version: 23, name: 'email_identity', sql: m023.sql },
  { version: 30, name: 'api_sources', sql: m030.sql },
  { version: 31, name: 'school', sql: m031.sql },
  { version: 32, name: 'github', sql: m032.sql },
  { version: 33, name: 'github_copilot_reports', sql: m033.sql },
  { version: 34, name: 'github_nullable_events', sql: m034.sql },
  { version: 35, name: 'output_files', sql: m035.sql },
  { version: 40, name: 'app_db', sql: m040.sql },
  { version: 50, name: 'api_tokens', sql: m050.sql },
  { version: 51, name: 'alerts', sql: m051.sql },
  { version: 60, name: 'api_token_expiry', sql: m060.sql },
  { version: 61, name: 'ledger_per_run', sql: m061.sql },
  { version: 65, name: 'etl_rejects_runs', sql: m065.sql },
  { version: 66, name: 'app_db_privacy_state', sql: m066.sql },
  { version: 67, name: 'app_db_target_rows', sql: m067.sql },
  { version: 68, name: 'app_db_change_seq', sql: m068.sql },
  { version: 80, name: 'cdc_slot_state', sql: m080.sql },
  { version: 90, name: 'identity_work_tables', sql: m090.sql },
  { version: 100, name: 'api_token_names', sql: m100.sql },
  { version: 110, name: 'cdc_app_db', sql: m110.sql },
];

const LOCK_KEY = 727_001;

const checksum = (m: Migration) => createHash('sha256').update(m.sql).digest('hex').slice(0, 16);

export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum TEXT');
    const { rows } = await client.query<{ version: number; checksum: string | null }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) {
        // An applied migration edited afterwards would leave this database silently behind the code.
        const stored = done.get(m.version);
        if (stored && stored !== checksum(m)) {
          throw new ConfigError(
            `migration ${m.version} (${m.name}) changed after it was applied to this database: ` +
              'add a new migration instead of editing an applied one (or, for a local embedded database, delete ' +
              '.data/pg)',
          );
        }
        if (!stored)
          await client.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [m.version, checksum(m)]);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          checksum(m),
        ]);
        await client.query('COMMIT');
        applied.push(m.version);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
  return applied;
}
