// API tokens of `learnsync serve`: only the SHA-256 of each secret is stored, so a copy of the
// warehouse cannot be replayed against the API. A token is never deleted, only revoked, so the
// audit trail (who created it, when it was last used) survives it.
export const sql = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id            TEXT PRIMARY KEY,
  name          VARCHAR(100) NOT NULL,
  role          VARCHAR(10) NOT NULL CHECK (role IN ('read', 'admin')),
  secret_sha256 BYTEA NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at  TIMESTAMPTZ,
  revoked_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS api_tokens_name ON api_tokens (name);
`;
