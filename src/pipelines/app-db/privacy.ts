// What never leaves in clear: secret columns (org_api_keys.key by default, APP_DB_SECRET_COLUMNS)
// leave as HMAC-SHA256 under APP_DB_HASH_KEY — a keyed hash, so nobody without the key can test
// guesses against it — and dropped columns (APP_DB_DROP_COLUMNS) do not leave at all.
import { createHmac } from 'node:crypto';
import type { TargetColumn } from './schema-mapping.js';
import { InvalidUtf8 } from '../../connectors/app-db/source.js';

export interface PrivacyRules {
  hashKey: string;
  secretColumns: Record<string, string[]>;
  dropColumns: Record<string, string[]>;
}

export function keyedHash(hashKey: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = Buffer.isBuffer(value) ? value : value instanceof InvalidUtf8 ? value.bytes : String(value);
  return createHmac('sha256', hashKey).update(text).digest('hex');
}

export interface TablePrivacy {
  /** Columns that go to BigQuery, with secret ones typed STRING (their hex hash). */
  columns: TargetColumn[];
  secret: Set<string>;
}

export function applyPrivacy(rules: PrivacyRules, table: string, columns: readonly TargetColumn[]): TablePrivacy {
  const dropped = new Set((rules.dropColumns[table] ?? []).map((c) => c.toLowerCase()));
  const secret = new Set((rules.secretColumns[table] ?? []).map((c) => c.toLowerCase()));
  return {
    columns: columns
      .filter((c) => !dropped.has(c.name.toLowerCase()))
      .map((c) => (secret.has(c.name.toLowerCase()) ? { name: c.name, type: 'STRING' } : c)),
    secret: new Set(columns.filter((c) => secret.has(c.name.toLowerCase())).map((c) => c.name)),
  };
}
