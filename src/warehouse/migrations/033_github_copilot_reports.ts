// Copilot usage metrics reports (the API that replaced /orgs/{org}/copilot/metrics): the
// organisation's day gains the reports' measures beside the legacy ones it keeps filling, and
// the users report gets a table of one row per user and day. `org` holds the organisation login,
// or `enterprise:<slug>` for an enterprise's reports.
export const sql = `
ALTER TABLE github.copilot_daily
  ADD COLUMN IF NOT EXISTS metrics_source TEXT NOT NULL DEFAULT 'legacy',
  ADD COLUMN IF NOT EXISTS weekly_active_users INTEGER,
  ADD COLUMN IF NOT EXISTS monthly_active_users INTEGER,
  ADD COLUMN IF NOT EXISTS monthly_active_chat_users INTEGER,
  ADD COLUMN IF NOT EXISTS monthly_active_agent_users INTEGER,
  ADD COLUMN IF NOT EXISTS user_initiated_interactions INTEGER,
  ADD COLUMN IF NOT EXISTS lines_deleted INTEGER;

CREATE TABLE IF NOT EXISTS github.copilot_user_daily (
  org TEXT NOT NULL, day DATE NOT NULL, user_id BIGINT NOT NULL, user_login TEXT NOT NULL,
  user_initiated_interactions INTEGER NOT NULL DEFAULT 0,
  code_generations INTEGER NOT NULL DEFAULT 0, code_acceptances INTEGER NOT NULL DEFAULT 0,
  lines_suggested INTEGER NOT NULL DEFAULT 0, lines_accepted INTEGER NOT NULL DEFAULT 0,
  lines_deleted INTEGER NOT NULL DEFAULT 0,
  used_agent BOOLEAN, used_chat BOOLEAN, used_cli BOOLEAN,
  languages TEXT[] NOT NULL DEFAULT '{}', ides TEXT[] NOT NULL DEFAULT '{}',
  synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (org, day, user_id));
CREATE INDEX IF NOT EXISTS copilot_user_daily_login ON github.copilot_user_daily (user_login, day);
`;
