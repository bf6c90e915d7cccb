// SCD2 versions remember when the source's own time could not be trusted: a created_at/updated_at
// in the future (clock skew, a bad import) is clamped to the sync time, and the version says so,
// so as-of-now lookups and is_current agree and the clamp stays visible to whoever audits it.
export const sql = `
ALTER TABLE dw.dim_tenant ADD COLUMN IF NOT EXISTS source_time_clamped BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE dw.dim_learner ADD COLUMN IF NOT EXISTS source_time_clamped BOOLEAN NOT NULL DEFAULT false;
`;
