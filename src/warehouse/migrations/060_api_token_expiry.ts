// Tokens that expire on their own: `learnsync dev` / `demo` mint an admin token per start, and a
// token printed to a terminal must not stay valid for good. NULL keeps the tokens people create
// with `learnsync tokens create` valid until revoked, as before.
export const sql = `
ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS expires_at TIMESTAMPTZ;
`;
