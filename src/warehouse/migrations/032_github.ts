// GitHub in the warehouse: Copilot metrics per day and per language, learners' public events,
// GitHub Skills courses and their enrolments (forks), and the learners whose events we follow.
export const sql = `
CREATE SCHEMA IF NOT EXISTS github;

-- Learners known to the warehouse by GitHub login; identity pipelines (or GITHUB_TRACKED_USERS,
-- or the sample seeder) fill it, the events sync reads it.
CREATE TABLE IF NOT EXISTS github.tracked_users (
  username TEXT PRIMARY KEY, source TEXT NOT NULL, added_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS github.copilot_daily (
  org TEXT NOT NULL, day DATE NOT NULL,
  total_active_users INTEGER, total_engaged_users INTEGER,
  ide_completions_engaged_users INTEGER, ide_chat_engaged_users INTEGER,
  dotcom_chat_engaged_users INTEGER, dotcom_pr_engaged_users INTEGER,
  code_suggestions INTEGER NOT NULL DEFAULT 0, code_acceptances INTEGER NOT NULL DEFAULT 0,
  lines_suggested INTEGER NOT NULL DEFAULT 0, lines_accepted INTEGER NOT NULL DEFAULT 0,
  ide_chats INTEGER NOT NULL DEFAULT 0,
  synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (org, day));

CREATE TABLE IF NOT EXISTS github.copilot_languages (
  org TEXT NOT NULL, day DATE NOT NULL, language TEXT NOT NULL,
  engaged_users INTEGER NOT NULL DEFAULT 0,
  code_suggestions INTEGER NOT NULL DEFAULT 0, code_acceptances INTEGER NOT NULL DEFAULT 0,
  lines_suggested INTEGER NOT NULL DEFAULT 0, lines_accepted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org, day, language));

CREATE TABLE IF NOT EXISTS github.activity (
  event_id BIGINT PRIMARY KEY, username TEXT NOT NULL, type TEXT NOT NULL, repo_name TEXT,
  action TEXT, public BOOLEAN, created_at TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS activity_user_time ON github.activity (username, created_at DESC);

CREATE TABLE IF NOT EXISTS github.skills_courses (
  repo_id BIGINT PRIMARY KEY, name TEXT NOT NULL, full_name TEXT NOT NULL, description TEXT, html_url TEXT,
  is_template BOOLEAN, forks_count INTEGER, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
  synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS github.skills_enrollments (
  fork_id BIGINT PRIMARY KEY, course_repo_id BIGINT NOT NULL, course_name TEXT NOT NULL,
  owner_login TEXT NOT NULL, owner_id BIGINT, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ,
  synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS skills_enrollments_course ON github.skills_enrollments (course_repo_id, created_at DESC);
`;
