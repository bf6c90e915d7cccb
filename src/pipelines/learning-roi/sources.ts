// The six Kusto reads of the learning ROI pipeline, as data: which cluster and database, the KQL,
// the columns it returns and the staging table they land in, and how the read is cut into
// windows. The KQL filters to learners on the Kusto side (the e-mail and activity tables hold every
// GitHub user), so only rows the warehouse needs cross the wire; identity is decided in SQL later.
//
// The seed documents name the tables but not their columns: the column names below (exam_date,
// correct_answers, CandidateEmail, Score, actor.id, activity_count …) are this module's assumptions,
// kept here and nowhere else so that adapting to the real schemas is a one-file change. A schema
// that does not match fails the extract with a ValidationError naming the missing column.
//
// Each query starts with `// learnsync query=<name>`: it names the query in Kusto's own query log
// (.show queries) and lets the sample server recognise it.
import type { KustoConfig } from '../../config.js';
import { kqlNormalizeEmail } from '../../warehouse/email-identity.js';

export type KustoType = 'string' | 'long' | 'int' | 'real' | 'bool' | 'datetime';

export interface SourceColumn {
  /** Column name in the query result. */
  name: string;
  /** Staging column it is copied into. */
  column: string;
  type: KustoType;
  required?: boolean;
}

export type SourceName =
  'ace_exam_results' | 'pearson_exam_results' | 'user_emails' | 'user_signups' | 'product_usage' | 'page_views';

export interface KustoSourceSpec {
  name: SourceName;
  cluster: 'analytics' | 'exam';
  /** The Kusto table the data comes from, for sync_status.json. */
  origin: string;
  database(k: KustoConfig): string;
  query(k: KustoConfig): string;
  stagingTable: string;
  columns: SourceColumn[];
  /**
   * time: windows over `column` (the query filters on it, re-extraction deletes by it); hash: partitions of a snapshot.
   */
  windows: { kind: 'time'; column: string; stepDays: number } | { kind: 'hash' };
}

const kqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const norm = kqlNormalizeEmail;

/** Normalised e-mails of everyone who sat an exam, on either cluster. */
function learnerEmails(k: KustoConfig): string {
  return `let learner_emails = union
    (database('ace').exam_results | project e = ${norm('tostring(email)')}),
    (cluster(${kqlString(k.examClusterUrl ?? '')}).database(${kqlString(k.examDatabase)}).pearson_exam_results
      | project e = ${norm('tostring(CandidateEmail)')})
  | where isnotempty(e)
  | distinct e;`;
}

/** Every GitHub id any identity source ties to a learner e-mail (a superset of the resolved ids). */
function learnerIds(k: KustoConfig): string {
  return `${learnerEmails(k)}
let learner_ids = materialize(union
    (database('snapshots').github_mysql1_user_emails_current
      | where verified == true and ${norm('tostring(email)')} in (learner_emails) | project id = tolong(user_id)),
    (database('hydro').github_v1_user_signup
      | where ${norm('tostring(email)')} in (learner_emails) | project id = tolong(actor.id)),
    (database('ace').exam_results | where tolong(dotcomid) > 0 | project id = tolong(dotcomid))
  | distinct id);`;
}

const WINDOW_PARAMS = 'declare query_parameters(windowStart:datetime, windowEnd:datetime);';
const PARTITION_PARAMS = 'declare query_parameters(partition:long, partitions:long);';

export const ACE_EXAM_COLUMNS: SourceColumn[] = [
  { name: 'exam_id', column: 'exam_id', type: 'string' },
  { name: 'email', column: 'email', type: 'string' },
  { name: 'dotcomid', column: 'dotcomid', type: 'long' },
  { name: 'exam_code', column: 'exam_code', type: 'string' },
  { name: 'exam_name', column: 'exam_name', type: 'string' },
  { name: 'exam_date', column: 'exam_date', type: 'datetime', required: true },
  { name: 'correct_answers', column: 'correct_answers', type: 'long' },
  { name: 'incorrect_answers', column: 'incorrect_answers', type: 'long' },
  { name: 'passed', column: 'passed', type: 'bool' },
];

export const PEARSON_EXAM_COLUMNS: SourceColumn[] = [
  { name: 'RegistrationId', column: 'registration_id', type: 'string' },
  { name: 'CandidateEmail', column: 'candidate_email', type: 'string' },
  { name: 'ExamCode', column: 'exam_code', type: 'string' },
  { name: 'ExamTitle', column: 'exam_title', type: 'string' },
  { name: 'ExamDate', column: 'exam_date', type: 'datetime', required: true },
  { name: 'Score', column: 'score', type: 'real' },
  { name: 'PassingScore', column: 'passing_score', type: 'real' },
  { name: 'Result', column: 'result', type: 'string' },
];

export const ACE_EXAM_PROJECTION = `project exam_id = tostring(exam_id), email = tostring(email),
    dotcomid = tolong(dotcomid), exam_code = tostring(exam_code),
    exam_name = tostring(exam_name), exam_date = todatetime(exam_date), correct_answers = tolong(correct_answers),
    incorrect_answers = tolong(incorrect_answers), passed = tobool(passed)`;

export const PEARSON_EXAM_PROJECTION = `project RegistrationId = tostring(RegistrationId),
    CandidateEmail = tostring(CandidateEmail), ExamCode = tostring(ExamCode), ExamTitle = tostring(ExamTitle),
    ExamDate = todatetime(ExamDate), Score = toreal(Score), PassingScore = toreal(PassingScore),
    Result = tostring(Result)`;

export const KUSTO_SOURCES: Record<SourceName, KustoSourceSpec> = {
  ace_exam_results: {
    name: 'ace_exam_results',
    cluster: 'analytics',
    origin: 'ace.exam_results (FY22-25)',
    database: () => 'ace',
    query: () => `// learnsync query=ace_exam_results
${WINDOW_PARAMS}
exam_results
| where exam_date >= windowStart and exam_date < windowEnd
| ${ACE_EXAM_PROJECTION}`,
    stagingTable: 'staging.kusto_ace_exam_results',
    columns: ACE_EXAM_COLUMNS,
    windows: { kind: 'time', column: 'exam_date', stepDays: 30 },
  },
  pearson_exam_results: {
    name: 'pearson_exam_results',
    cluster: 'exam',
    origin: 'ACE.pearson_exam_results (FY26+)',
    database: (k) => k.examDatabase,
    query: () => `// learnsync query=pearson_exam_results
${WINDOW_PARAMS}
pearson_exam_results
| where ExamDate >= windowStart and ExamDate < windowEnd
| ${PEARSON_EXAM_PROJECTION}`,
    stagingTable: 'staging.kusto_pearson_exam_results',
    columns: PEARSON_EXAM_COLUMNS,
    windows: { kind: 'time', column: 'exam_date', stepDays: 30 },
  },
  user_emails: {
    name: 'user_emails',
    cluster: 'analytics',
    origin: 'snapshots.github_mysql1_user_emails_current (verified)',
    database: () => 'snapshots',
    query: (k) => `// learnsync query=user_emails
${PARTITION_PARAMS}
${learnerEmails(k)}
github_mysql1_user_emails_current
| where verified == true
| extend e = ${norm('tostring(email)')}
| where e in (learner_emails) and hash(e, partitions) == partition
| project user_id = tolong(user_id), email = tostring(email), is_primary = tobool(['primary']),
    verified = tobool(verified), updated_at = todatetime(updated_at)`,
    stagingTable: 'staging.kusto_user_emails',
    columns: [
      { name: 'user_id', column: 'user_id', type: 'long' },
      { name: 'email', column: 'email', type: 'string' },
      { name: 'is_primary', column: 'is_primary', type: 'bool' },
      { name: 'verified', column: 'verified', type: 'bool' },
      { name: 'updated_at', column: 'updated_at', type: 'datetime' },
    ],
    windows: { kind: 'hash' },
  },
  user_signups: {
    name: 'user_signups',
    cluster: 'analytics',
    origin: 'hydro.github_v1_user_signup',
    database: () => 'hydro',
    query: (k) => `// learnsync query=user_signups
${PARTITION_PARAMS}
${learnerEmails(k)}
github_v1_user_signup
| extend e = ${norm('tostring(email)')}
| where e in (learner_emails) and hash(e, partitions) == partition
| project signup_at = todatetime(['timestamp']), actor_id = tolong(actor.id), email = tostring(email)`,
    stagingTable: 'staging.kusto_user_signups',
    columns: [
      { name: 'signup_at', column: 'signup_at', type: 'datetime' },
      { name: 'actor_id', column: 'actor_id', type: 'long' },
      { name: 'email', column: 'email', type: 'string' },
    ],
    windows: { kind: 'hash' },
  },
  product_usage: {
    name: 'product_usage',
    cluster: 'analytics',
    origin: 'canonical.user_daily_activity_per_product',
    database: () => 'canonical',
    query: (k) => `// learnsync query=product_usage
${WINDOW_PARAMS}
${learnerIds(k)}
user_daily_activity_per_product
| where day >= windowStart and day < windowEnd
| where product in ('copilot', 'actions', 'security') and tolong(user_id) in (learner_ids)
| project day = todatetime(day), user_id = tolong(user_id), product = tostring(product),
    events = tolong(activity_count)`,
    stagingTable: 'staging.kusto_product_usage',
    columns: [
      { name: 'day', column: 'day', type: 'datetime', required: true },
      { name: 'user_id', column: 'user_id', type: 'long' },
      { name: 'product', column: 'product', type: 'string' },
      { name: 'events', column: 'events', type: 'long' },
    ],
    windows: { kind: 'time', column: 'day', stepDays: 14 },
  },
  page_views: {
    name: 'page_views',
    cluster: 'analytics',
    origin: 'hydro.analytics_v0_page_view (Learn, Skills, Docs)',
    database: () => 'hydro',
    query: (k) => `// learnsync query=page_views
${WINDOW_PARAMS}
${learnerIds(k)}
analytics_v0_page_view
| where ['timestamp'] >= windowStart and ['timestamp'] < windowEnd
| extend host = tolower(tostring(parse_url(tostring(url)).Host)), actor_id = tolong(actor.id)
| where host in ('learn.microsoft.com', 'skills.github.com', 'docs.github.com') and actor_id in (learner_ids)
| summarize first_view_at = min(['timestamp']), last_view_at = max(['timestamp']), views = count()
    by actor_id, site = case(host == 'learn.microsoft.com', 'learn', host == 'skills.github.com', 'skills', 'docs')
| project first_view_at, last_view_at, actor_id, site, views`,
    stagingTable: 'staging.kusto_page_views',
    columns: [
      { name: 'first_view_at', column: 'first_view_at', type: 'datetime', required: true },
      { name: 'last_view_at', column: 'last_view_at', type: 'datetime' },
      { name: 'actor_id', column: 'actor_id', type: 'long' },
      { name: 'site', column: 'site', type: 'string' },
      { name: 'views', column: 'views', type: 'long' },
    ],
    windows: { kind: 'time', column: 'first_view_at', stepDays: 30 },
  },
};

export function sourceSpec(name: unknown): KustoSourceSpec | undefined {
  return typeof name === 'string' && Object.hasOwn(KUSTO_SOURCES, name) ? KUSTO_SOURCES[name as SourceName] : undefined;
}

/** Live profile reads: one learner's exams, same columns as the extracts. */
export const LEARNER_EXAM_QUERIES = {
  ace: {
    name: 'learner_ace_exams',
    database: () => 'ace',
    text: `// learnsync query=learner_ace_exams
declare query_parameters(learnerEmail:string);
exam_results
| where ${norm('tostring(email)')} == learnerEmail
| ${ACE_EXAM_PROJECTION}
| order by exam_date asc`,
  },
  pearson: {
    name: 'learner_pearson_exams',
    database: (k: KustoConfig) => k.examDatabase,
    text: `// learnsync query=learner_pearson_exams
declare query_parameters(learnerEmail:string);
pearson_exam_results
| where ${norm('tostring(CandidateEmail)')} == learnerEmail
| ${PEARSON_EXAM_PROJECTION}
| order by ExamDate asc`,
  },
} as const;
