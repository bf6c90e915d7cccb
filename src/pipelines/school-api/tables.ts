// The school API's tables: which endpoint feeds each, which scope filters it takes (from config),
// how an API item becomes a warehouse row (validated: a bad item is rejected with a reason, never
// loaded half-right) and how a page of rows is merged into its table.
import { z } from 'zod';
import type { Config } from '../../config.js';

export type Scope = Config['schoolApi']['scope'];
export type SchoolTableName =
  | 'cursus'
  | 'campuses'
  | 'projects'
  | 'achievements'
  | 'coalitions'
  | 'users'
  | 'projects_users'
  | 'achievements_users'
  | 'coalitions_users';

export const REFERENCE_TABLES: SchoolTableName[] = ['cursus', 'campuses', 'projects', 'achievements', 'coalitions'];
export const ACTIVE_TABLES: SchoolTableName[] = ['users', 'projects_users', 'achievements_users', 'coalitions_users'];

export interface Endpoint {
  path: string;
  /** Route template for accounting, e.g. /v2/cursus/{id}/users. */
  endpoint: string;
  query: Record<string, string>;
}

type Row = Record<string, unknown>;

export interface SchoolTableSpec {
  name: SchoolTableName;
  table: string;
  /** reference: small, refreshed whole every night. active: follows range[updated_at] cursors. */
  kind: 'reference' | 'active';
  /** mode 'window' may drop filters a record can leave (alumni), so that its exit is seen. */
  endpoint(scope: Scope, mode: 'full' | 'window'): Endpoint;
  columns: { name: string; type: string }[];
  item: z.ZodType<Row>;
  /** Rows outside the configured scope are removed from the table rather than loaded. */
  inScope?(row: Row, scope: Scope): boolean;
}

const ts = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a timestamp')
  .transform((s) => new Date(s).toISOString());
const optTs = ts.nullish().transform((v) => v ?? null);
const int = z.number().int();
const optInt = int.nullish().transform((v) => v ?? null);
const optStr = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
const optBool = z
  .boolean()
  .nullish()
  .transform((v) => v ?? null);
const ref = z.object({ id: int });

const sortById = { sort: 'id' };

const TABLES: Record<SchoolTableName, SchoolTableSpec> = {
  cursus: {
    name: 'cursus',
    table: 'school.cursus',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/cursus', endpoint: '/v2/cursus', query: sortById }),
    columns: cols('id int', 'name text', 'slug text', 'kind text', 'created_at timestamptz', 'updated_at timestamptz'),
    item: z.object({ id: int, name: z.string(), slug: optStr, kind: optStr, created_at: optTs, updated_at: optTs }),
  },
  campuses: {
    name: 'campuses',
    table: 'school.campuses',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/campus', endpoint: '/v2/campus', query: sortById }),
    columns: cols(
      'id int',
      'name text',
      'time_zone text',
      'country text',
      'city text',
      'active boolean',
      'users_count int',
      'updated_at timestamptz',
    ),
    item: z.object({
      id: int,
      name: z.string(),
      time_zone: optStr,
      country: optStr,
      city: optStr,
      active: optBool,
      users_count: optInt,
      updated_at: optTs,
    }),
  },
  projects: {
    name: 'projects',
    table: 'school.projects',
    kind: 'reference',
    endpoint: (s) => ({
      path: `/v2/cursus/${s.cursusId}/projects`,
      endpoint: '/v2/cursus/{id}/projects',
      query: sortById,
    }),
    columns: cols(
      'id int',
      'name text',
      'slug text',
      'difficulty int',
      'exam boolean',
      'parent_id int',
      'cursus_ids int[]',
      'created_at timestamptz',
      'updated_at timestamptz',
    ),
    item: z
      .object({
        id: int,
        name: z.string(),
        slug: optStr,
        difficulty: optInt,
        exam: optBool,
        parent: ref.nullish(),
        cursus: z.array(ref).nullish(),
        created_at: optTs,
        updated_at: optTs,
      })
      .transform(({ parent, cursus, ...r }) => ({
        ...r,
        parent_id: parent?.id ?? null,
        cursus_ids: (cursus ?? []).map((c) => c.id),
      })),
  },
  achievements: {
    name: 'achievements',
    table: 'school.achievements',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/achievements', endpoint: '/v2/achievements', query: sortById }),
    columns: cols(
      'id int',
      'name text',
      'description text',
      'tier text',
      'kind text',
      'visible boolean',
      'nbr_of_success int',
      'updated_at timestamptz',
    ),
    item: z.object({
      id: int,
      name: z.string(),
      description: optStr,
      tier: optStr,
      kind: optStr,
      visible: optBool,
      nbr_of_success: optInt,
      updated_at: optTs,
    }),
  },
  coalitions: {
    name: 'coalitions',
    table: 'school.coalitions',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/coalitions', endpoint: '/v2/coalitions', query: sortById }),
    columns: cols(
      'id int',
      'name text',
      'slug text',
      'color text',
      'score int',
      'user_id int',
      'updated_at timestamptz',
    ),
    item: z.object({
      id: int,
      name: z.string(),
      slug: optStr,
      color: optStr,
      score: optInt,
      user_id: optInt,
      updated_at: optTs,
    }),
  },
  users: {
    name: 'users',
    table: 'school.users',
    kind: 'active',
    endpoint: (s, mode) => ({
      path: `/v2/cursus/${s.cursusId}/users`,
      endpoint: '/v2/cursus/{id}/users',
      // A full read asks only for the scope; a window asks for every change, so that a student who
      // became alumni (or changed kind) is seen leaving and removed.
      query:
        mode === 'full'
          ? { ...sortById, 'filter[kind]': s.userKind, ...(!s.includeAlumni && { 'filter[alumni?]': 'false' }) }
          : sortById,
    }),
    columns: cols(
      'id int',
      'login text',
      'email text',
      'kind text',
      'alumni boolean',
      'active boolean',
      'cursus_id int',
      'campus_id int',
      'pool_year text',
      'level numeric',
      'created_at timestamptz',
      'updated_at timestamptz',
    ),
    item: z
      .object({
        id: int,
        login: z.string().min(1),
        email: optStr,
        kind: z.string(),
        'alumni?': z.boolean().nullish(),
        'active?': z.boolean().nullish(),
        primary_campus_id: optInt,
        pool_year: optStr,
        level: z.number().nullish(),
        created_at: optTs,
        updated_at: ts,
      })
      .transform((u) => ({
        id: u.id,
        login: u.login,
        email: u.email,
        kind: u.kind,
        alumni: u['alumni?'] ?? false,
        active: u['active?'] ?? null,
        campus_id: u.primary_campus_id,
        pool_year: u.pool_year,
        level: u.level ?? null,
        created_at: u.created_at,
        updated_at: u.updated_at,
      })),
    inScope: (row, s) => row.kind === s.userKind && (s.includeAlumni || row.alumni === false),
  },
  projects_users: {
    name: 'projects_users',
    table: 'school.projects_users',
    kind: 'active',
    endpoint: (s) => ({
      path: '/v2/projects_users',
      endpoint: '/v2/projects_users',
      query: { ...sortById, 'filter[cursus]': String(s.cursusId) },
    }),
    columns: cols(
      'id int',
      'user_id int',
      'project_id int',
      'cursus_ids int[]',
      'status text',
      'final_mark int',
      'validated boolean',
      'occurrence int',
      'marked_at timestamptz',
      'created_at timestamptz',
      'updated_at timestamptz',
    ),
    item: z
      .object({
        id: int,
        user: ref,
        project: ref,
        cursus_ids: z.array(int).nullish(),
        status: optStr,
        final_mark: optInt,
        'validated?': z.boolean().nullish(),
        occurrence: optInt,
        marked_at: optTs,
        created_at: optTs,
        updated_at: ts,
      })
      .transform((p) => ({
        id: p.id,
        user_id: p.user.id,
        project_id: p.project.id,
        cursus_ids: p.cursus_ids ?? [],
        status: p.status,
        final_mark: p.final_mark,
        validated: p['validated?'] ?? null,
        occurrence: p.occurrence,
        marked_at: p.marked_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
      })),
  },
  achievements_users: {
    name: 'achievements_users',
    table: 'school.achievements_users',
    kind: 'active',
    endpoint: () => ({ path: '/v2/achievements_users', endpoint: '/v2/achievements_users', query: sortById }),
    columns: cols(
      'id int',
      'achievement_id int',
      'user_id int',
      'nbr_of_success int',
      'created_at timestamptz',
      'updated_at timestamptz',
    ),
    item: z.object({
      id: int,
      achievement_id: int,
      user_id: int,
      nbr_of_success: optInt,
      created_at: optTs,
      updated_at: ts,
    }),
  },
  coalitions_users: {
    name: 'coalitions_users',
    table: 'school.coalitions_users',
    kind: 'active',
    endpoint: () => ({ path: '/v2/coalitions_users', endpoint: '/v2/coalitions_users', query: sortById }),
    columns: cols(
      'id int',
      'coalition_id int',
      'user_id int',
      'score int',
      'rank int',
      'created_at timestamptz',
      'updated_at timestamptz',
    ),
    item: z.object({
      id: int,
      coalition_id: int,
      user_id: int,
      score: optInt,
      rank: optInt,
      created_at: optTs,
      updated_at: ts,
    }),
  },
};

function cols(...defs: string[]): { name: string; type: string }[] {
  return defs.map((d) => {
    const [name, ...type] = d.split(' ');
    return { name: name!, type: type.join(' ') };
  });
}

export function schoolTable(name: string): SchoolTableSpec {
  const spec = TABLES[name as SchoolTableName];
  if (!spec) throw new Error(`unknown school API table "${name}"; known: ${Object.keys(TABLES).join(', ')}`);
  return spec;
}

/** users rows carry the cursus they were read under (the path's scope). */
export function completeRow(spec: SchoolTableSpec, row: Row, scope: Scope): Row {
  return spec.name === 'users' ? { ...row, cursus_id: scope.cursusId } : row;
}

/**
 * Merges one page: rows arrive as one jsonb parameter; duplicates within the page keep their latest
 * version; an existing row is only overwritten by a version at least as new (a late page from an
 * older window cannot roll a record back). synced_at marks every row seen, for the full-refresh sweep.
 */
export function upsertSql(spec: SchoolTableSpec): string {
  const names = spec.columns.map((c) => c.name);
  const hasUpdated = names.includes('updated_at');
  const set = names
    .filter((n) => n !== 'id')
    .map((n) =>
      hasUpdated
        ? `${n} = CASE WHEN t.updated_at > EXCLUDED.updated_at THEN t.${n} ELSE EXCLUDED.${n} END`
        : `${n} = EXCLUDED.${n}`,
    );
  return `WITH incoming AS (
      SELECT DISTINCT ON (id) * FROM jsonb_to_recordset($1::jsonb) AS x(${spec.columns.map((c) => `${c.name} ${c.type}`).join(', ')})
       ORDER BY id${hasUpdated ? ', updated_at DESC NULLS LAST' : ''})
    INSERT INTO ${spec.table} AS t (${names.join(', ')}, synced_at) SELECT ${names.join(', ')}, now() FROM incoming
    ON CONFLICT (id) DO UPDATE SET ${set.join(', ')}, synced_at = now()
    RETURNING (xmax = 0) AS inserted`;
}
