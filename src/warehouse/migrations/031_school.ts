// The school REST API (42-style) in the warehouse: reference tables refreshed nightly and the
// active tables kept current by incremental syncs. Relationship columns are indexed; they are not
// foreign keys because the tables load independently (an incremental enrolment may name a
// project before the nightly reference refresh has seen it). synced_at drives the sweep that
// removes rows a full refresh no longer sees.
export const sql = `
CREATE SCHEMA IF NOT EXISTS school;

CREATE TABLE IF NOT EXISTS school.cursus (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, slug TEXT, kind TEXT,
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS school.campuses (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT, country TEXT, city TEXT, active BOOLEAN,
  users_count INTEGER, updated_at TIMESTAMPTZ, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS school.projects (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, slug TEXT, difficulty INTEGER, exam BOOLEAN, parent_id INTEGER,
  cursus_ids INTEGER[] NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
  synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS school.achievements (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT, tier TEXT, kind TEXT, visible BOOLEAN,
  nbr_of_success INTEGER, updated_at TIMESTAMPTZ, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS school.coalitions (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, slug TEXT, color TEXT, score INTEGER, user_id INTEGER,
  updated_at TIMESTAMPTZ, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS school.users (
  id INTEGER PRIMARY KEY, login TEXT NOT NULL, email TEXT, kind TEXT NOT NULL, alumni BOOLEAN NOT NULL,
  active BOOLEAN, cursus_id INTEGER NOT NULL, campus_id INTEGER, pool_year TEXT, level NUMERIC,
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS users_cursus ON school.users (cursus_id, kind, alumni);
CREATE INDEX IF NOT EXISTS users_campus ON school.users (campus_id);

CREATE TABLE IF NOT EXISTS school.projects_users (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, project_id INTEGER NOT NULL, cursus_ids INTEGER[] NOT NULL DEFAULT '{}',
  status TEXT, final_mark INTEGER, validated BOOLEAN, occurrence INTEGER, marked_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS projects_users_user ON school.projects_users (user_id);
CREATE INDEX IF NOT EXISTS projects_users_project ON school.projects_users (project_id);

CREATE TABLE IF NOT EXISTS school.achievements_users (
  id INTEGER PRIMARY KEY, achievement_id INTEGER NOT NULL, user_id INTEGER NOT NULL, nbr_of_success INTEGER,
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS achievements_users_user ON school.achievements_users (user_id);
CREATE INDEX IF NOT EXISTS achievements_users_achievement ON school.achievements_users (achievement_id);

CREATE TABLE IF NOT EXISTS school.coalitions_users (
  id INTEGER PRIMARY KEY, coalition_id INTEGER NOT NULL, user_id INTEGER NOT NULL, score INTEGER, rank INTEGER,
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS coalitions_users_user ON school.coalitions_users (user_id);
CREATE INDEX IF NOT EXISTS coalitions_users_coalition ON school.coalitions_users (coalition_id);

-- The relationships, joined once: a student's projects with their marks.
CREATE OR REPLACE VIEW school.student_projects AS
SELECT u.id AS user_id, u.login, u.cursus_id, u.campus_id, p.id AS project_id, p.name AS project_name,
       pu.status, pu.final_mark, pu.validated, pu.marked_at
  FROM school.projects_users pu
  JOIN school.users u ON u.id = pu.user_id
  LEFT JOIN school.projects p ON p.id = pu.project_id;
`;
