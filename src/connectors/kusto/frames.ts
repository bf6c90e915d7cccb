// Reads a Kusto REST v2 response (a JSON array of frames: DataSetHeader, DataTable…,
// DataSetCompletion) and finds every way it can report a failure after "200 OK": errors in the
// DataSetCompletion frame, error-level rows in QueryCompletionInformation, a partial-failure
// object in place of a row of the primary table, a cancelled query, or a response cut short.
import { fromOneApiErrors, KustoQueryError, type OneApiError } from './errors.js';

export interface KustoColumn {
  name: string;
  type: string;
}

export interface KustoTable {
  columns: KustoColumn[];
  rows: unknown[][];
}

interface Frame {
  FrameType?: string;
  TableKind?: string;
  Columns?: Array<{ ColumnName: string; ColumnType?: string; DataType?: string }>;
  Rows?: unknown[];
  HasErrors?: boolean;
  Cancelled?: boolean;
  OneApiErrors?: Array<{ error?: OneApiError } | OneApiError>;
}

const GENERIC_TEXT = /^\s*(\{.*"Text"\s*:\s*")?Query\s*completed\s*successfully("\s*\})?\s*$/i;

// QueryCompletionInformation levels: 1 Critical, 2 Error, 3 Warning, 4 Info, 5 Verbose, 6 Stats.
const ERROR_LEVEL = 2;

function unwrap(e: { error?: OneApiError } | OneApiError): OneApiError {
  return 'error' in e && e.error ? e.error : (e as OneApiError);
}

function completionErrors(frame: Frame): OneApiError[] {
  const cols = (frame.Columns ?? []).map((c) => c.ColumnName);
  const level = cols.indexOf('Level');
  const payload = cols.indexOf('Payload');
  const status = cols.indexOf('StatusCodeName');
  const out: OneApiError[] = [];
  for (const row of frame.Rows ?? []) {
    if (!Array.isArray(row) || level < 0 || typeof row[level] !== 'number' || row[level] > ERROR_LEVEL) continue;
    const text = String(row[payload] ?? '');
    let parsed: OneApiError | undefined;
    try {
      const j = JSON.parse(text) as { Text?: string; error?: OneApiError };
      parsed = j.error ?? (j.Text ? { message: j.Text } : undefined);
    } catch {
      // Payload is free text in older services
    }
    // Kusto marks the row as an error but often leaves the generic "Querycompletedsuccessfully"
    // text in its payload: the status name is then the only honest description on this row.
    if (parsed?.message && GENERIC_TEXT.test(parsed.message)) parsed = undefined;
    out.push(parsed ?? { message: (GENERIC_TEXT.test(text) ? '' : text) || String(row[status] ?? 'error') });
  }
  return out;
}

// A JSON string (kept whole) or one of the bare tokens Kusto writes for real NaN and ±Infinity.
const STRING_OR_SPECIAL = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

/**
 * Kusto serialises real NaN/Infinity/-Infinity as bare tokens, which is not JSON: the HTTP client
 * then hands over the body as text. Read it with those tokens turned into the strings "NaN",
 * "Infinity" and "-Infinity" (which the loaders map to Postgres's float specials).
 */
export function parseKustoJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(STRING_OR_SPECIAL, (m) => (m.startsWith('"') ? m : `"${m}"`)));
  }
}

/** The primary result of a v2 response, or the classified error it carries. */
export function readPrimaryResult(raw: unknown, where: string): KustoTable {
  if (typeof raw === 'string') {
    const text = raw;
    try {
      raw = parseKustoJson(text);
    } catch {
      throw new KustoQueryError(`${where}: response is not valid JSON (${text.slice(0, 80)}…)`, 'transient');
    }
  }
  if (!Array.isArray(raw)) {
    if (raw && typeof raw === 'object' && 'error' in raw)
      throw fromOneApiErrors([(raw as { error: OneApiError }).error], where);
    throw new KustoQueryError(`${where}: response is not a v2 frame array`, 'transient');
  }
  const frames = raw as Frame[];
  let primary: Frame | undefined;
  let completion: Frame | undefined;
  const errors: OneApiError[] = [];
  const infoErrors: OneApiError[] = [];
  for (const f of frames) {
    if (f.FrameType === 'DataTable' && f.TableKind === 'PrimaryResult' && !primary) primary = f;
    else if (f.FrameType === 'DataTable' && f.TableKind === 'QueryCompletionInformation')
      infoErrors.push(...completionErrors(f));
    else if (f.FrameType === 'DataSetCompletion') completion = f;
  }
  if (completion?.HasErrors) errors.push(...(completion.OneApiErrors ?? []).map(unwrap));
  // By default Kusto reports a failure that happens mid-stream as an object where a row should be.
  const rows = primary?.Rows ?? [];
  for (const r of rows) {
    if (!Array.isArray(r)) {
      const inline = r as { OneApiErrors?: Array<{ error?: OneApiError } | OneApiError> } & OneApiError;
      errors.push(...(inline.OneApiErrors ? inline.OneApiErrors.map(unwrap) : [unwrap(inline)]));
    }
  }
  // The service's own error text (DataSetCompletion, inline) wins over the completion-information summary.
  if (!errors.length) errors.push(...infoErrors);
  if (errors.length) throw fromOneApiErrors(dedupe(errors), where);
  if (completion?.Cancelled) throw new KustoQueryError(`${where}: the query was cancelled by the service`, 'transient');
  if (!completion)
    throw new KustoQueryError(`${where}: the response ended before its DataSetCompletion frame`, 'transient');
  if (!primary) throw new KustoQueryError(`${where}: the response has no primary result table`, 'transient');
  return {
    columns: (primary.Columns ?? []).map((c) => ({
      name: c.ColumnName,
      type: (c.ColumnType ?? c.DataType ?? 'string').toLowerCase(),
    })),
    rows: rows as unknown[][],
  };
}

function dedupe(errors: OneApiError[]): OneApiError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.code}|${e['@message'] ?? e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
