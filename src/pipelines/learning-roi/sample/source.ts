// Sample mode: the learning ROI sample (kusto-sample-data.ts) served by the local Kusto-protocol
// server, so the pipeline runs exactly the code it runs against the real clusters — the same
// azure-kusto-data client, windows, parameters, frames and error handling. The server answers
// learnsync's own queries (recognised by their `// learnsync query=` line, filtered by their query
// parameters); it is not a KQL engine. It starts on first use, in-process, on a free loopback port.
import { KUSTO_SOURCES, type SourceColumn } from '../sources.js';
import type { OneApiError } from '../../../connectors/kusto/errors.js';
import type { KustoColumn } from '../../../connectors/kusto/frames.js';
import { LearningSample } from './data.js';
import { startKustoServer, type KustoHandler, type KustoReply, type KustoServerHandle } from './kusto-server.js';

/** The bearer token the sample server expects (a loopback-only server; no real credential). */
export const SAMPLE_KUSTO_TOKEN = 'learnsync-sample-kusto';

const columnsOf = (cols: SourceColumn[]): KustoColumn[] => cols.map((c) => ({ name: c.name, type: c.type }));

function badRequest(message: string): KustoReply {
  const error: OneApiError = {
    code: 'General_BadRequest',
    message: 'Request is invalid and cannot be executed.',
    '@type': 'Kusto.Data.Exceptions.KustoBadRequestException',
    '@message': `Request is invalid and cannot be processed: Semantic error: ${message}`,
    '@permanent': true,
  };
  return { kind: 'http-error', status: 400, error };
}

function timeParams(p: Record<string, string>): [number, number] | string {
  const start = Date.parse(p.windowStart ?? '');
  const end = Date.parse(p.windowEnd ?? '');
  if (Number.isNaN(start) || Number.isNaN(end))
    return "query parameters 'windowStart' and 'windowEnd' must be datetimes";
  return [start, end];
}

function partitionParams(p: Record<string, string>): [number, number] | string {
  const partition = Number(p.partition);
  const partitions = Number(p.partitions);
  if (
    !Number.isInteger(partition) ||
    !Number.isInteger(partitions) ||
    partitions < 1 ||
    partition < 0 ||
    partition >= partitions
  ) {
    return "query parameters 'partition' and 'partitions' must be longs with 0 <= partition < partitions";
  }
  return [partition, partitions];
}

export function createSampleKustoHandler(sample: LearningSample): KustoHandler {
  const S = KUSTO_SOURCES;
  const table = (cols: SourceColumn[], rows: unknown[][]): KustoReply => ({
    kind: 'table',
    columns: columnsOf(cols),
    rows,
  });
  const byTime = (cols: SourceColumn[], rows: (a: number, b: number) => unknown[][]) => (p: Record<string, string>) => {
    const t = timeParams(p);
    return typeof t === 'string' ? badRequest(t) : table(cols, rows(t[0], t[1]));
  };
  const byPartition =
    (cols: SourceColumn[], rows: (a: number, b: number) => unknown[][]) => (p: Record<string, string>) => {
      const t = partitionParams(p);
      return typeof t === 'string' ? badRequest(t) : table(cols, rows(t[0], t[1]));
    };
  const learner = (which: 'ace' | 'pearson', cols: SourceColumn[]) => (p: Record<string, string>) =>
    p.learnerEmail
      ? table(cols, sample.examsOf(p.learnerEmail)[which])
      : badRequest("query parameter 'learnerEmail' is required");

  const routes: Record<string, (p: Record<string, string>) => KustoReply> = {
    ace_exam_results: byTime(S.ace_exam_results.columns, (a, b) => sample.aceRows(a, b)),
    pearson_exam_results: byTime(S.pearson_exam_results.columns, (a, b) => sample.pearsonRows(a, b)),
    product_usage: byTime(S.product_usage.columns, (a, b) => sample.usageRows(a, b)),
    page_views: byTime(S.page_views.columns, (a, b) => sample.pageViewRows(a, b)),
    user_emails: byPartition(S.user_emails.columns, (a, b) => sample.userEmailRows(a, b)),
    user_signups: byPartition(S.user_signups.columns, (a, b) => sample.signupRows(a, b)),
    learner_ace_exams: learner('ace', S.ace_exam_results.columns),
    learner_pearson_exams: learner('pearson', S.pearson_exam_results.columns),
  };
  return (req) => {
    const route = routes[req.queryName];
    if (!route)
      return badRequest(
        `the learnsync sample source answers only learnsync's own queries, not "${req.csl.slice(0, 80)}"`,
      );
    return route(req.parameters);
  };
}

const servers = new Map<number, Promise<{ server: KustoServerHandle; sample: LearningSample }>>();

/** The in-process sample server for a scale, started on first use and shared by every caller. */
export function sampleKustoServer(scale: number): Promise<{ server: KustoServerHandle; sample: LearningSample }> {
  let s = servers.get(scale);
  if (!s) {
    s = (async () => {
      const sample = new LearningSample(scale);
      const server = await startKustoServer({
        handler: createSampleKustoHandler(sample),
        requireToken: SAMPLE_KUSTO_TOKEN,
      });
      return { server, sample };
    })();
    s.catch(() => servers.delete(scale));
    servers.set(scale, s);
  }
  return s;
}
