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
/** A nested { id } reference (project.parent, projects_users.user …), read as its id. */
const refId = z.object({ id: int }).transform((r) => r.id);

const sortById = { sort: 'id' };

/**
 * One column of a table, declared once: its warehouse type and how it is read from an API item —
 * the item's field (`from`, when it is named differently) and that field's schema. A column
 * without a schema is not read from the item (users.cursus_id comes from the path's scope).
 */
interface Column {
  type: string;
  read?: z.ZodTypeAny;
  from?: string;
}
const col = (type: string, read?: z.ZodTypeAny, from?: string): Column => ({ type, read, from });

/** The column list and the item schema of a table, both from its one column declaration. */
function table(decl: Record<string, Column>): Pick<SchoolTableSpec, 'columns' | 'item'> {
  const read = Object.entries(decl).filter(([, c]) => c.read);
  const shape = Object.fromEntries(read.map(([name, c]) => [c.from ?? name, c.read!]));
  return {
    columns: Object.entries(decl).map(([name, c]) => ({ name, type: c.type })),
    item: z
      .object(shape)
      .transform((item): Row => Object.fromEntries(read.map(([name, c]) => [name, item[c.from ?? name]]))),
  };
}

const TABLES: Record<SchoolTableName, SchoolTableSpec> = {
  cursus: {
    name: 'cursus',
    table: 'school.cursus',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/cursus', endpoint: '/v2/cursus', query: sortById }),
    ...table({
      id: col('int', int),
      name: col('text', z.string()),
      slug: col('text', optStr),
      kind: col('text', optStr),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', optTs),
    }),
  },
  campuses: {
    name: 'campuses',
    table: 'school.campuses',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/campus', endpoint: '/v2/campus', query: sortById }),
    ...table({
      id: col('int', int),
      name: col('text', z.string()),
      time_zone: col('text', optStr),
      country: col('text', optStr),
      city: col('text', optStr),
      active: col('boolean', optBool),
      users_count: col('int', optInt),
      updated_at: col('timestamptz', optTs),
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
    ...table({
      id: col('int', int),
      name: col('text', z.string()),
      slug: col('text', optStr),
      difficulty: col('int', optInt),
      exam: col('boolean', optBool),
      parent_id: col(
        'int',
        refId.nullish().transform((v) => v ?? null),
        'parent',
      ),
      cursus_ids: col(
        'int[]',
        z
          .array(refId)
          .nullish()
          .transform((v) => v ?? []),
        'cursus',
      ),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', optTs),
    }),
  },
  achievements: {
    name: 'achievements',
    table: 'school.achievements',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/achievements', endpoint: '/v2/achievements', query: sortById }),
    ...table({
      id: col('int', int),
      name: col('text', z.string()),
      description: col('text', optStr),
      tier: col('text', optStr),
      kind: col('text', optStr),
      visible: col('boolean', optBool),
      nbr_of_success: col('int', optInt),
      updated_at: col('timestamptz', optTs),
    }),
  },
  coalitions: {
    name: 'coalitions',
    table: 'school.coalitions',
    kind: 'reference',
    endpoint: () => ({ path: '/v2/coalitions', endpoint: '/v2/coalitions', query: sortById }),
    ...table({
      id: col('int', int),
      name: col('text', z.string()),
      slug: col('text', optStr),
      color: col('text', optStr),
      score: col('int', optInt),
      user_id: col('int', optInt),
      updated_at: col('timestamptz', optTs),
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
    ...table({
      id: col('int', int),
      login: col('text', z.string().min(1)),
      email: col('text', optStr),
      kind: col('text', z.string()),
      alumni: col(
        'boolean',
        optBool.transform((v) => v ?? false),
        'alumni?',
      ),
      active: col('boolean', optBool, 'active?'),
      cursus_id: col('int'),
      campus_id: col('int', optInt, 'primary_campus_id'),
      pool_year: col('text', optStr),
      level: col(
        'numeric',
        z
          .number()
          .nullish()
          .transform((v) => v ?? null),
      ),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', ts),
    }),
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
    ...table({
      id: col('int', int),
      user_id: col('int', refId, 'user'),
      project_id: col('int', refId, 'project'),
      cursus_ids: col(
        'int[]',
        z
          .array(int)
          .nullish()
          .transform((v) => v ?? []),
      ),
      status: col('text', optStr),
      final_mark: col('int', optInt),
      validated: col('boolean', optBool, 'validated?'),
      occurrence: col('int', optInt),
      marked_at: col('timestamptz', optTs),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', ts),
    }),
  },
  achievements_users: {
    name: 'achievements_users',
    table: 'school.achievements_users',
    kind: 'active',
    endpoint: () => ({ path: '/v2/achievements_users', endpoint: '/v2/achievements_users', query: sortById }),
    ...table({
      id: col('int', int),
      achievement_id: col('int', int),
      user_id: col('int', int),
      nbr_of_success: col('int', optInt),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', ts),
    }),
  },
  coalitions_users: {
    name: 'coalitions_users',
    table: 'school.coalitions_users',
    kind: 'active',
    endpoint: () => ({ path: '/v2/coalitions_users', endpoint: '/v2/coalitions_users', query: sortById }),
    ...table({
      id: col('int', int),
      coalition_id: col('int', int),
      user_id: col('int', int),
      score: col('int', optInt),
      rank: col('int', optInt),
      created_at: col('timestamptz', optTs),
      updated_at: col('timestamptz', ts),
    }),
  },
};

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
      SELECT DISTINCT ON (id) *
        FROM jsonb_to_recordset($1::jsonb) AS x(${spec.columns.map((c) => `${c.name} ${c.type}`).join(', ')})
       ORDER BY id${hasUpdated ? ', updated_at DESC NULLS LAST' : ''})
    INSERT INTO ${spec.table} AS t (${names.join(', ')}, synced_at) SELECT ${names.join(', ')}, now() FROM incoming
    ON CONFLICT (id) DO UPDATE SET ${set.join(', ')}, synced_at = now()
    RETURNING (xmax = 0) AS inserted`;
}
