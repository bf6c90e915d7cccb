// Alerts raised by the alerts pipeline: one row per incident (rule + subject), open until the
// condition clears. notified_at / resolved_notified_at make "send once, and once when resolved"
// a matter of a row's state rather than of a process's memory.
export const sql = `
CREATE TABLE IF NOT EXISTS alerts (
  id                   BIGSERIAL PRIMARY KEY,
  rule                 VARCHAR(40) NOT NULL,
  subject              VARCHAR(200) NOT NULL,
  pipeline             VARCHAR(100),
  severity             VARCHAR(10) NOT NULL DEFAULT 'warning',
  message              TEXT NOT NULL,
  opened_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  resolved_at          TIMESTAMPTZ,
  notified_at          TIMESTAMPTZ,
  resolved_notified_at TIMESTAMPTZ,
  notify_attempts      INTEGER NOT NULL DEFAULT 0,
  last_notify_error    TEXT
);
-- At most one open incident per rule and subject.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_open_incident ON alerts (rule, subject) WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS alerts_opened ON alerts (opened_at DESC);
`;
