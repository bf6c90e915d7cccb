// Entities of the OLTP source — tenants, learners, users, subjects, skills — as they stand at the
// start of the generated range, and the changes each day brings: renamed tenants, plan changes,
// learners changing grade (and the odd correction back), transfers, deactivations, hard deletes,
// new enrolments, renamed users and skills. These are what the SCD2 dimensions have to track.
import type pg from 'pg';
import { sqlLiteral } from '../../../connectors/postgres.js';
import {
  dayNumber,
  FIRST_NAMES,
  LAST_NAMES,
  pick,
  rnd,
  SUBJECTS,
  TENANT_NAMES,
  TENANT_SUFFIXES,
  utcMidnight,
} from './random.js';
import type { OltpScale } from './scale.js';
import { derivedCounts } from './scale.js';

const tenantName = (t: string, suffixIndex: string) =>
  `(ARRAY[${TENANT_NAMES.map(sqlLiteral).join(', ')}])[1 + (${t} - 1) % ${TENANT_NAMES.length}]
   || CASE WHEN ${t} > ${TENANT_NAMES.length} THEN ' ' || ${t} ELSE '' END
   || ' ' || (ARRAY[${TENANT_SUFFIXES.map(sqlLiteral).join(', ')}])[1 + (${suffixIndex})]`;

const personName = (key: string, salt: number) =>
  `${pick(FIRST_NAMES, key, salt)} || ' ' || ${pick(LAST_NAMES, key, salt + 1)}`;

/** Tenant number ↔ id, so that SQL can go from a tenant to "its" teachers. */
export const tenantMap = (tenants: number) =>
  `(SELECT t, md5('tenant:' || t)::uuid AS tenant_id FROM generate_series(1, ${tenants}) t)`;

export async function insertBaselineEntities(db: pg.PoolClient, scale: OltpScale, from: string): Promise<void> {
  const start = utcMidnight(from);
  const { teachers, parents } = derivedCounts(scale);
  await db.query(`
    INSERT INTO platform.tenants (tenant_id, name, region, plan, is_active, created_at, updated_at)
    SELECT md5('tenant:' || t)::uuid, ${tenantName('t', '(t - 1) % 2')},
           ${pick(['us-east', 'us-west', 'eu-west', 'ap-south'], 't', 1)},
           ${pick(['basic', 'pro', 'district'], 't', 2)}, true,
           ${start} - (400 + t) * interval '1 day', ${start} - (30 + t) * interval '1 day'
      FROM generate_series(1, ${scale.tenants}) t`);

  // Tenant sizes are skewed (rnd^1.7); a few learners carry an impossible grade the dimension job rejects.
  await db.query(`
    INSERT INTO platform.learners
      (learner_id, student_number, tenant_id, grade_level, preferred_language, is_active, created_at, updated_at)
    SELECT md5('learner:' || l)::uuid, l,
           md5('tenant:' || (1 + floor(power(${rnd('l', 21)}, 1.7) * ${scale.tenants})::int))::uuid,
           CASE WHEN ${rnd('l', 22)} < 0.0005 THEN 42 ELSE 1 + floor(${rnd('l', 23)} * 12)::int END,
           CASE WHEN ${rnd('l', 24)} < 0.8 THEN 'en' WHEN ${rnd('l', 24)} < 0.95 THEN 'es' ELSE 'fr' END,
           ${rnd('l', 25)} >= 0.03, c.at, c.at
      FROM generate_series(1, ${scale.learners}) l
     CROSS JOIN LATERAL (SELECT ${start} - (1 + floor(${rnd('l', 26)} * 700)) * interval '12 hours' AS at) c`);

  // Users 1..teachers are teachers, spread round-robin over tenants; the rest are parents.
  await db.query(`
    INSERT INTO platform.users (user_id, user_number, tenant_id, role, display_name, is_active, created_at, updated_at)
    SELECT md5('user:' || u)::uuid, u, md5('tenant:' || (1 + (u - 1) % ${scale.tenants}))::uuid,
           CASE WHEN ${rnd('u', 31)} < 0.001 THEN 'admin' WHEN u <= ${teachers} THEN 'teacher' ELSE 'parent' END,
           ${personName('u', 32)}, ${rnd('u', 34)} >= 0.02, c.at, c.at
      FROM generate_series(1, ${teachers + parents}) u
     CROSS JOIN LATERAL (SELECT ${start} - (1 + floor(${rnd('u', 35)} * 700)) * interval '12 hours' AS at) c`);

  await db.query(`
    INSERT INTO platform.subjects (subject_id, name, is_active, updated_at)
    SELECT code, name, true, ${start} - interval '500 days'
      FROM (VALUES ${SUBJECTS.map(([c, n]) => `(${sqlLiteral(c)}, ${sqlLiteral(n)})`).join(', ')}) s(code, name);
    INSERT INTO platform.skills (skill_id, subject_id, code, name, grade_level, updated_at)
    SELECT md5('skill:' || s.subject_id || ':' || g || ':' || n)::uuid, s.subject_id,
           s.subject_id || '-G' || lpad(g::text, 2, '0') || '-' || n, s.name || ', grade ' || g || ', unit ' || n, g,
           ${start} - interval '400 days'
      FROM platform.subjects s, generate_series(1, 12) g, generate_series(1, 5) n`);
}

/** The entity changes of one day, each stamped with a time inside that day. Run days in order. */
export async function applyEntityChanges(db: pg.PoolClient, scale: OltpScale, date: string): Promise<void> {
  const d = dayNumber(date);
  const start = utcMidnight(date);
  const at = (key: string, salt: number) => `${start} + (1 + floor(${rnd(key, salt)} * 86000)) * interval '1 second'`;
  const tk = `${d}::bigint * 10000000 + m.t`;
  await db.query(`
    UPDATE platform.tenants x SET
           name = CASE WHEN ${rnd(tk, 101)} < 0.08 THEN
             ${tenantName('m.t', `floor(${rnd(tk, 102)} * ${TENANT_SUFFIXES.length})::int`)} ELSE x.name END,
           plan = CASE WHEN ${rnd(tk, 103)} < 0.03 THEN ${pick(['basic', 'pro', 'district'], tk, 104)} ELSE x.plan END,
           is_active = CASE WHEN ${rnd(tk, 105)} < 0.004 THEN NOT x.is_active ELSE x.is_active END,
           updated_at = ${at(tk, 106)}
      FROM ${tenantMap(scale.tenants)} m
     WHERE m.tenant_id = x.tenant_id AND (${rnd(tk, 101)} < 0.08 OR ${rnd(tk, 103)} < 0.03
       OR ${rnd(tk, 105)} < 0.004)`);

  const lk = `${d}::bigint * 10000000 + x.student_number`;
  await db.query(`
    UPDATE platform.learners x SET
           grade_level = CASE WHEN x.grade_level > 12 THEN x.grade_level
                              WHEN ${rnd(lk, 111)} < 0.004 THEN least(12, x.grade_level + 1)
                              WHEN ${rnd(lk, 111)} < 0.005 THEN greatest(1, x.grade_level - 1) ELSE x.grade_level END,
           is_active = CASE WHEN ${rnd(lk, 112)} < 0.002 THEN false WHEN NOT x.is_active AND ${rnd(lk, 112)} > 0.97
             THEN true ELSE x.is_active END,
           tenant_id = CASE WHEN ${rnd(lk, 113)} < 0.001
                            THEN md5('tenant:' || (1 + floor(${rnd(lk, 114)} * ${scale.tenants})::int))::uuid
                            ELSE x.tenant_id END,
           updated_at = ${at(lk, 115)}
     WHERE ${rnd(lk, 111)} < 0.005 OR ${rnd(lk, 112)} < 0.002 OR (NOT x.is_active AND ${rnd(lk, 112)} > 0.97)
       OR ${rnd(lk, 113)} < 0.001`);
  // Hard deletes (GDPR erasure): no trace left at the source, the dimension closes the version.
  await db.query(`DELETE FROM platform.learners x WHERE ${rnd(lk, 116)} < 0.0005`);
  // New enrolments exist from midnight, before any of the day's sessions.
  await db.query(`
    INSERT INTO platform.learners
      (learner_id, student_number, tenant_id, grade_level, preferred_language, is_active, created_at, updated_at)
    SELECT md5('learner:' || l)::uuid, l,
           md5('tenant:' || (1 + floor(power(${rnd('l', 21)}, 1.7) * ${scale.tenants})::int))::uuid,
           1 + floor(${rnd('l', 23)} * 12)::int, CASE WHEN ${rnd('l', 24)} < 0.8 THEN 'en' ELSE 'es' END,
           true, ${start}, ${start}
      FROM (SELECT coalesce(max(student_number), 0) AS top FROM platform.learners) t,
           generate_series(t.top + 1, t.top + ${Math.ceil(scale.learners * 0.002)}) l
    ON CONFLICT (student_number) DO NOTHING`);

  const uk = `${d}::bigint * 10000000 + x.user_number`;
  await db.query(`
    UPDATE platform.users x SET
           display_name = CASE WHEN ${rnd(uk, 121)} < 0.002 THEN ${personName(uk, 122)} ELSE x.display_name END,
           is_active = CASE WHEN ${rnd(uk, 124)} < 0.001 THEN NOT x.is_active ELSE x.is_active END,
           updated_at = ${at(uk, 125)}
     WHERE ${rnd(uk, 121)} < 0.002 OR ${rnd(uk, 124)} < 0.001`);

  await db.query(`
    UPDATE platform.skills SET name = split_part(name, ' (rev ', 1) || ' (rev ' || ${sqlLiteral(date)} || ')',
           updated_at = ${start} + interval '9 hours'
     WHERE ((hashtextextended(code, ${d}) & 2147483647)::float8 / 2147483648.0) < 0.003`);
}
