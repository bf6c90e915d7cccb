// API tokens: `lst_<id>_<secret>`. The id finds the row; the secret is compared by its SHA-256
// in constant time. Only the hash is stored, and the whole token is shown once, at creation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../connectors/postgres.js';
import { ValidationError } from '../errors.js';

export type TokenRole = 'read' | 'admin';
export const TOKEN_ROLES: readonly TokenRole[] = ['read', 'admin'];

export interface TokenInfo {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** null: valid until revoked. */
  expiresAt: string | null;
}

const TOKEN_SHAPE = /^lst_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest();

export async function createToken(
  db: Pool,
  name: string,
  role: TokenRole,
  opts: { ttlMs?: number } = {},
): Promise<{ token: string; info: TokenInfo }> {
  if (!/^[\w.@-]{1,100}$/.test(name))
    throw new ValidationError(`token name "${name}" must be 1-100 letters, digits, '.', '_', '@' or '-'`);
  if (!TOKEN_ROLES.includes(role)) throw new ValidationError(`role must be read or admin, got "${role}"`);
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const { rows } = await db
    .query<{ created_at: Date; expires_at: Date | null }>(
      `INSERT INTO api_tokens (id, name, role, secret_sha256, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision / 1000))
       RETURNING created_at, expires_at`,
      [id, name, role, sha256(secret), opts.ttlMs ?? null],
    )
    .catch((err: Error & { code?: string }) => {
      if (err.code === '23505')
        throw new ValidationError(`a token named "${name}" already exists: choose another name or revoke that one`);
      throw err;
    });
  return {
    token: `lst_${id}_${secret}`,
    info: {
      id,
      name,
      role,
      createdAt: rows[0]!.created_at.toISOString(),
      lastUsedAt: null,
      revokedAt: null,
      expiresAt: rows[0]!.expires_at?.toISOString() ?? null,
    },
  };
}

export async function listTokens(db: Pool): Promise<TokenInfo[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    role: TokenRole;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
    expires_at: Date | null;
  }>('SELECT id, name, role, created_at, last_used_at, revoked_at, expires_at FROM api_tokens ORDER BY created_at');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.created_at.toISOString(),
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    revokedAt: r.revoked_at?.toISOString() ?? null,
    expiresAt: r.expires_at?.toISOString() ?? null,
  }));
}

/** Revokes by id or by name (every active token of that name); returns how many were revoked. */
export async function revokeToken(db: Pool, idOrName: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE api_tokens SET revoked_at = now() WHERE (id = $1 OR name = $1) AND revoked_at IS NULL',
    [idOrName],
  );
  return rowCount ?? 0;
}

/** The token's identity when the bearer string is a live token; undefined otherwise (never says why). */
export async function verifyToken(
  db: Pool,
  bearer: string,
): Promise<{ id: string; name: string; role: TokenRole } | undefined> {
  const m = TOKEN_SHAPE.exec(bearer);
  if (!m) return undefined;
  const { rows } = await db.query<{ id: string; name: string; role: TokenRole; secret_sha256: Buffer }>(
    `SELECT id, name, role, secret_sha256 FROM api_tokens
      WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [m[1]],
  );
  const row = rows[0];
  // Hash even when there is no row, so a missing id and a wrong secret take the same time.
  const presented = sha256(m[2]!);
  const stored = row?.secret_sha256 ?? Buffer.alloc(32);
  if (!timingSafeEqual(presented, stored) || !row) return undefined;
  // Best effort, at most once a minute per token: an audit hint, not a write per request.
  void db
    .query(
      `UPDATE api_tokens SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [row.id],
    )
    .catch(() => {});
  return { id: row.id, name: row.name, role: row.role };
}
