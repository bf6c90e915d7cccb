// One day of learning activity at the OLTP source, generated inside Postgres (generate_series,
// no row travels through Node): sessions and their events, homework submissions, daily skill
// mastery snapshots and AI recommendation events. A small share of rows is bad on purpose —
// missing or unknown keys, impossible dates, out-of-range measures — and about 1% of session
// events arrive a day or two late (offline devices): they wait in oltp_sim until they "arrive".
import type pg from 'pg';
import { addDays } from '../../dates.js';
import { dayNumber, pick, rnd, skillIdSql, SUBJECT_CODES, utcMidnight } from './random.js';
import { tenantMap } from './entities.js';
import { derivedCounts, type OltpScale } from './scale.js';

const subjectArray = `ARRAY[${SUBJECT_CODES.map((c) => `'${c}'`).join(', ')}]`;

export async function insertDayActivity(db: pg.PoolClient, scale: OltpScale, date: string): Promise<void> {
  const d = dayNumber(date);
  const start = utcMidnight(date);
  const end = utcMidnight(addDays(date, 1));
  const c = derivedCounts(scale);
  const secondOfDay = (key: string, salt: number) =>
    `${start} + (1 + floor(${rnd(key, salt)} * 86000)) * interval '1 second'`;

  // Learners able to start a session today, numbered so a hash can pick one.
  await db.query(`
    CREATE TEMP TABLE gen_pool ON COMMIT DROP AS
    SELECT (row_number() OVER (ORDER BY l.student_number) - 1)::int AS n, l.learner_id, l.student_number, l.tenant_id,
           l.grade_level, m.t AS tenant_no
      FROM platform.learners l JOIN ${tenantMap(scale.tenants)} m ON m.tenant_id = l.tenant_id
     WHERE l.is_active`);
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM gen_pool');
  const pool = rows[0]!.n;
  if (pool === 0) return;
  const pickLearner = (key: string, salt: number) => `floor(${rnd(key, salt)} * ${pool})::int`;

  // Sessions; event k of the day belongs to the session whose [lo, hi) holds k, so the day has
  // exactly eventsPerDay events while sessions vary in length (±4 around 20).
  const S = c.sessionsPerDay;
  const E = scale.eventsPerDay;
  const sk = `${d}::bigint * 10000000 + s`;
  const jitter = (x: string) =>
    `CASE WHEN ${x} <= 0 OR ${x} >= ${S} THEN 0 ELSE (hashint8extended(${d}::bigint * 10000000 + ${x},
        44) % 5)::int END`;
  await db.query(`
    CREATE TEMP TABLE gen_sessions ON COMMIT DROP AS
    SELECT s, md5('session:' || ${d} || ':' || s)::uuid AS session_id, p.learner_id, p.tenant_id, p.grade_level,
           (${subjectArray})[1 + floor(${rnd(sk, 42)} * ${SUBJECT_CODES.length})::int] AS subject_id,
           ${secondOfDay(sk, 43)} AS started_at, (300 + floor(${rnd(sk, 44)} * 3300))::int AS duration_s,
           ${rnd(sk, 45)} AS bad,
           (floor(s::numeric * ${E} / ${S}) + ${jitter('s')})::bigint AS lo,
           (floor((s + 1)::numeric * ${E} / ${S}) + ${jitter('(s + 1)')})::bigint AS hi
      FROM generate_series(0, ${S - 1}) s JOIN gen_pool p ON p.n = ${pickLearner(sk, 41)}`);
  await db.query(`
    INSERT INTO platform.sessions (session_id, tenant_id, learner_id, subject_id, device, started_at, ended_at)
    SELECT session_id, tenant_id,
           CASE WHEN bad < 0.001 THEN NULL WHEN bad < 0.002 THEN md5('ghost-learner:' || ${d} || ':' || s)::uuid
             ELSE learner_id END,
           subject_id, ${pick(['web', 'ios', 'android', 'chromebook'], sk, 46)}, started_at,
           CASE WHEN bad >= 0.002 AND bad < 0.003 THEN started_at - interval '10 minutes'
             ELSE started_at + duration_s * interval '1 second' END
      FROM gen_sessions`);

  const ek = `${d}::bigint * 1000000000 + i`;
  await db.query(`
    WITH gen AS (
      SELECT e.event_id,
             CASE WHEN e.kind IN ('focus_lost', 'focus_restored') AND e.r_lost < 0.001
                  THEN md5('lost-session:' || e.event_id)::uuid ELSE e.session_id END AS session_id,
             e.kind AS event_type,
             CASE WHEN e.kind IN ('response', 'activity_completed')
                  THEN ${skillIdSql('e.subject_id', 'e.grade_level', '(1 + e.event_id % 5)')} END AS skill_id,
             CASE WHEN e.kind = 'response' THEN e.r_correct < 0.7 END AS is_correct,
             CASE WHEN e.kind = 'focus_lost' THEN
                  CASE WHEN e.r_bad < 0.004 THEN -5 WHEN e.r_bad < 0.006 THEN 200000
                    ELSE 5 + floor(e.r_correct * 115)::int END
             END AS duration_seconds,
             e.at AS occurred_at,
             e.at + CASE WHEN e.r_late < 0.01 THEN (20 + e.r_late * 3000) * interval '1 hour'
                         ELSE (1 + floor(e.r_late * 30)) * interval '1 second' END AS received_at
        FROM (SELECT ${ek} AS event_id, g.session_id, g.subject_id, g.grade_level, r.kind,
                     ${rnd(ek, 51)} AS r_lost, ${rnd(ek, 52)} AS r_correct, ${rnd(ek, 53)} AS r_bad,
                     ${rnd(ek, 55)} AS r_late,
                     g.started_at + g.duration_s * ((i - g.lo) + 0.5) / (g.hi - g.lo) * interval '1 second' AS at
                FROM gen_sessions g
               CROSS JOIN LATERAL generate_series(g.lo, g.hi - 1) i
               CROSS JOIN LATERAL (SELECT ${rnd(ek, 50)} AS r0) k
               CROSS JOIN LATERAL (SELECT CASE WHEN k.r0 < 0.5 THEN 'response'
                                               WHEN k.r0 < 0.75 THEN 'activity_completed'
                                               WHEN k.r0 < 0.9 THEN 'focus_lost'
                                               ELSE 'focus_restored' END AS kind) r) e),
    late AS (INSERT INTO oltp_sim.pending_session_events SELECT * FROM gen WHERE received_at >= ${end})
    INSERT INTO platform.session_events SELECT * FROM gen WHERE received_at < ${end}`);

  const hk = `${d}::bigint * 10000000 + h`;
  await db.query(`
    INSERT INTO platform.homework_submissions
      (submission_id, tenant_id, learner_id, subject_id, teacher_id, assigned_at, due_at, submitted_at, score,
       max_score, status)
    SELECT md5('homework:' || ${d} || ':' || h)::uuid, p.tenant_id,
           CASE WHEN x.bad < 0.002 THEN NULL ELSE p.learner_id END,
           (${subjectArray})[1 + floor(${rnd(hk, 62)} * ${SUBJECT_CODES.length})::int],
           CASE WHEN x.bad >= 0.002 AND x.bad < 0.004 THEN md5('ghost-teacher:' || ${hk})::uuid
                ELSE md5('user:' || (p.tenant_no
                                     + ${scale.tenants} * floor(${rnd(hk, 63)} * ${c.teachersPerTenant})::int))::uuid
           END,
           x.assigned, x.assigned + interval '3 days', x.submitted,
           CASE WHEN x.bad >= 0.006 AND x.bad < 0.008 THEN x.max_score + 15
             ELSE round(x.max_score * sqrt(${rnd(hk, 64)})::numeric, 1) END,
           x.max_score,
           CASE WHEN x.submitted > x.assigned + interval '3 days' THEN 'late' ELSE 'on_time' END
      FROM generate_series(0, ${c.homeworkPerDay - 1}) h
      JOIN gen_pool p ON p.n = ${pickLearner(hk, 61)}
     CROSS JOIN LATERAL (SELECT ${rnd(hk, 65)} AS bad, ${secondOfDay(hk, 66)} AS submitted,
                                (10 * (1 + floor(${rnd(hk, 67)} * 10)))::numeric AS max_score) y
     CROSS JOIN LATERAL (SELECT y.bad AS bad, y.submitted AS submitted, y.max_score AS max_score,
                                CASE WHEN y.bad >= 0.004 AND y.bad < 0.006 THEN y.submitted + interval '2 days'
                                     ELSE y.submitted - (1 + ${rnd(hk, 68)} * 6) * interval '1 day'
                                END AS assigned) x`);

  // Half the learners practise on a given day, three skills each: two they keep working on and
  // one that changes daily, so yesterday's snapshot often exists for the change measure.
  const mk = `${d}::bigint * 10000000 + p.student_number`;
  await db.query(`
    INSERT INTO platform.skill_mastery_daily
      (snapshot_id, learner_id, skill_id, snapshot_date, mastery_level, practice_count, computed_at)
    SELECT ${d}::bigint * 100000000 + p.student_number::bigint * 3 + j, p.learner_id,
           CASE WHEN x.bad >= 0.001 AND x.bad < 0.002 THEN md5('ghost-skill:' || ${mk} || ':' || j)::uuid
                ELSE ${skillIdSql('x.subject_id', 'p.grade_level', '(1 + (p.student_number + j) % 5)')} END,
           '${date}'::date,
           CASE WHEN x.bad < 0.001 THEN 1.5
                ELSE round(least(0.9999, ${rnd(`p.student_number::bigint * 100 + j`, 72)} * 0.6
                                         + 0.004 * (${d} % 100))::numeric, 4) END,
           1 + floor(${rnd(`${mk} * 4 + j`, 73)} * 15)::int,
           CASE WHEN x.bad >= 0.002 AND x.bad < 0.003 THEN ${start} - interval '3 days'
             ELSE ${end} - interval '1 minute' END
      FROM gen_pool p CROSS JOIN generate_series(1, 3) j
     CROSS JOIN LATERAL (SELECT ${rnd(`${mk} * 4 + j`, 74)} AS bad,
                                (${subjectArray})[1 + (p.student_number + j + CASE WHEN j = 3 THEN ${d} ELSE 0 END)
                                                  % ${SUBJECT_CODES.length}] AS subject_id) x
     WHERE ${rnd(mk, 71)} < 0.5`);

  const rk = `${d}::bigint * 10000000 + r / 2`;
  await db.query(`
    INSERT INTO platform.recommendation_events
      (event_id, recommendation_id, tenant_id, learner_id, skill_id, event_type, model_version, confidence, occurred_at)
    SELECT ${d}::bigint * 100000000 + r, md5('rec:' || ${rk})::uuid, p.tenant_id,
           CASE WHEN x.bad >= 0.002 AND x.bad < 0.003 THEN NULL ELSE p.learner_id END,
           ${skillIdSql(
             `(${subjectArray})[1 + floor(${rnd(rk, 82)} * ${SUBJECT_CODES.length})::int]`,
             'p.grade_level',
             `(1 + floor(${rnd(rk, 83)} * 5)::int)`,
           )},
           CASE WHEN x.bad >= 0.003 AND x.bad < 0.004 THEN 'clicked_twice'
                WHEN r % 2 = 0 THEN 'shown'
                WHEN ${rnd(`${d}::bigint * 100000000 + r`, 84)} < 0.5 THEN 'accepted'
                WHEN ${rnd(`${d}::bigint * 100000000 + r`, 84)} < 0.8 THEN 'dismissed' ELSE 'completed' END,
           CASE WHEN ${d} % 14 < 7 THEN 'rec-2025.3' ELSE 'rec-2025.4' END,
           CASE WHEN x.bad < 0.002 THEN 1.7 ELSE round((0.3 + ${rnd(rk, 85)} * 0.69)::numeric, 4) END,
           ${start} + (1 + floor(${rnd(rk, 86)} * 85000)) * interval '1 second'
             + CASE WHEN r % 2 = 1 THEN (60 + floor(${rnd(rk, 87)} * 540)) * interval '1 second' ELSE interval '0' END
      FROM generate_series(0, ${c.recommendationEventsPerDay - 1}) r
      JOIN gen_pool p ON p.n = ${pickLearner(rk, 81)}
     CROSS JOIN LATERAL (SELECT ${rnd(`${d}::bigint * 100000000 + r`, 88)} AS bad) x`);
}

/** Late events whose time has come: they "arrive" at the source on `date`. */
export async function deliverLateEvents(db: pg.PoolClient, date: string): Promise<number> {
  const end = utcMidnight(addDays(date, 1));
  const r = await db.query(`
    WITH moved AS (DELETE FROM oltp_sim.pending_session_events WHERE received_at < ${end} RETURNING *)
    INSERT INTO platform.session_events SELECT * FROM moved`);
  return r.rowCount ?? 0;
}
