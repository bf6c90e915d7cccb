// Scratch tables of identity resolution (issue 19): the stage splits its work by a hash of the
// normalised e-mail into partitions that run as parallel statements on separate connections, so
// the intermediate rows must live in tables every connection sees. They are UNLOGGED (no WAL: they
// are rebuilt from staging by every run and emptied at its end; a crash only empties them) and
// hash-partitioned on the e-mail, so each parallel statement reads exactly its own partition.
// Postgres 18 refuses UNLOGGED on a partitioned parent: the partitions carry it. Autovacuum is off
// for them: scratch rows live for one run, and a vacuum or analyze worker started by millions of
// inserts would take a core from the run that made them. E-mails are COLLATE "C": the work only
// groups and matches them (equality is the same under every deterministic collation), and byte
// order sorts several times faster than the database's libc collation.
const PARTITIONS = 2;

const partitioned = (table: string, columns: string) => `
CREATE TABLE IF NOT EXISTS learning_roi.${table} (${columns}) PARTITION BY HASH (email);
${Array.from(
  { length: PARTITIONS },
  (_, p) => `CREATE UNLOGGED TABLE IF NOT EXISTS learning_roi.${table}_p${p} PARTITION OF learning_roi.${table}
  FOR VALUES WITH (MODULUS ${PARTITIONS}, REMAINDER ${p}) WITH (autovacuum_enabled = false);`,
).join('\n')}`;

export const sql = `
${partitioned('identity_work_exams', 'email TEXT COLLATE "C", dotcom_id BIGINT, exam_date TIMESTAMPTZ')}
${partitioned(
  'identity_work_claims',
  `email TEXT COLLATE "C", dotcom_id BIGINT, rank SMALLINT NOT NULL, pref1 FLOAT8, pref2 FLOAT8,
   is_claim BOOLEAN NOT NULL, reason TEXT, raw JSONB`,
)}
${partitioned(
  'identity_work_learners',
  'email TEXT COLLATE "C", dotcom_id BIGINT NOT NULL, resolved_by TEXT NOT NULL, candidate_count INTEGER NOT NULL, has_conflict BOOLEAN NOT NULL',
)}
CREATE UNLOGGED TABLE IF NOT EXISTS learning_roi.identity_work_conflicts (
  email TEXT COLLATE "C", chosen_dotcom_id BIGINT, chosen_source TEXT, candidates JSONB) WITH (autovacuum_enabled = false);
`;
