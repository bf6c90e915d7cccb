// GitHub's REST description lets an event's `type` and `created_at`, and a fork's `created_at`, be
// null; such items are real data, not errors, so the columns accept NULL.
export const sql = `
ALTER TABLE github.activity ALTER COLUMN type DROP NOT NULL, ALTER COLUMN created_at DROP NOT NULL;
ALTER TABLE github.skills_enrollments ALTER COLUMN created_at DROP NOT NULL;
`;
