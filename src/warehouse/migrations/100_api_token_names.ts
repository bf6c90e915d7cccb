// Token names are how people tell tokens apart (`tokens list`, `tokens revoke`, the audit log):
// two live tokens may not share one. Live duplicates from before get their id appended (they keep
// working); a revoked token's name may be reused.
export const sql = `
UPDATE api_tokens t SET name = left(t.name, 87) || '-' || t.id
 WHERE t.revoked_at IS NULL
   AND EXISTS (SELECT 1 FROM api_tokens o
                WHERE o.name = t.name AND o.revoked_at IS NULL
                  AND (o.created_at, o.id) < (t.created_at, t.id));
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
`;
