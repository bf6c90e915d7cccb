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

// Kusto's native HRESULTs (facility 0xDA) by their low word, for rows that carry only the number.
const NATIVE_CODES = [
  'E_EXTENT_LOAD_FAILED',
  'E_RUNAWAY_QUERY',
  'E_STREAM_FORMAT',
  'E_QUERY_RESULT_SET_TOO_LARGE',
  'E_STREAM_ENCODING_VERSION',
  'E_KVDB_ERROR',
  'E_QUERY_CANCELLED',
];

/** A StatusCode as Kusto's manifest names it ("E_QUERY_RESULT_SET_TOO_LARGE (0x80DA0003)"), or undefined for 0. */
function statusCodeText(code: unknown): string | undefined {
  const n = typeof code === 'number' ? code : typeof code === 'string' && /^-?\d+$/.test(code) ? Number(code) : NaN;
  if (!Number.isInteger(n) || n === 0) return undefined;
  const hex = (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
  const name = hex.startsWith('80DA') ? NATIVE_CODES[parseInt(hex.slice(4), 16)] : undefined;
  return name ? `${name} (0x${hex})` : `0x${hex}`;
}

// A status name that claims success: on an error-level row it says nothing about the failure.
const SUCCESS_STATUS = /^\s*S_OK\b/i;

function completionErrors(frame: Frame): OneApiError[] {
  const cols = (frame.Columns ?? []).map((c) => c.ColumnName);
  const level = cols.indexOf('Level');
  const levelName = cols.indexOf('LevelName');
  const payload = cols.indexOf('Payload');
  const status = cols.indexOf('StatusCodeName');
  const statusCode = cols.indexOf('StatusCode');
  const out: OneApiError[] = [];
  for (const row of frame.Rows ?? []) {
    if (!Array.isArray(row) || level < 0 || typeof row[level] !== 'number' || row[level] > ERROR_LEVEL) continue;
    const text = String(row[payload] ?? '');
    let parsed: OneApiError | undefined;
    try {
      const j = JSON.parse(text) as {
        Text?: string;
        error?: OneApiError;
        OneApiErrors?: Array<{ error?: OneApiError }>;
      };
      parsed = j.error ?? (j.OneApiErrors?.[0] ? unwrap(j.OneApiErrors[0]) : j.Text ? { message: j.Text } : undefined);
    } catch {
      // Payload is free text in older services
    }
    // Kusto marks the row as an error but often leaves the generic "Querycompletedsuccessfully"
    // text in its payload: the status is then the only honest description on this row — unless
    // it too says S_OK (a Critical row does), when only the numeric StatusCode is left.
    if (parsed && !parsed['@message'] && parsed.message && GENERIC_TEXT.test(parsed.message)) parsed = undefined;
    const name = String(row[status] ?? '');
    const usefulName = name && !SUCCESS_STATUS.test(name) ? name : undefined;
    const code = usefulName ? undefined : statusCodeText(row[statusCode]);
    const statusText = usefulName ?? code;
    const freeText = GENERIC_TEXT.test(text) ? '' : text;
    const message =
      parsed?.['@message'] ??
      parsed?.message ??
      (freeText ||
        statusText ||
        `Kusto marked the query ${String(row[levelName] ?? '') || 'failed'} (level ${String(row[level])}) ` +
          'without an error code or message');
    out.push({ ...parsed, message, ...((parsed?.code ?? code) && { code: parsed?.code ?? code }) });
  }
  return out;
}

// The JSON tokens a rewrite may need to touch: a string (kept whole, so nothing inside it is
// touched), a bare NaN/±Infinity, or an integer of 16+ digits standing alone (not part of a
// decimal or an exponent). The string pattern is the unrolled loop, which does not backtrack.
const TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|-?Infinity|NaN|(?<![\w.+-])-?\d{16,}(?![\w.])/g;
// A run of 16 digits anywhere: the only way the text can hold an integer a JS number would round.
const LONG_DIGITS = /\d{16}/;

function rewriteToken(m: string): string {
  if (m.charCodeAt(0) === 34 /* " */) return m;
  if (m === 'NaN' || m.endsWith('Infinity')) return `"${m}"`;
  // An integer past 2^53 keeps its digits as a string; the loaders range-check and COPY it as text.
  return Number.isSafeInteger(Number(m)) ? m : `"${m}"`;
}

/**
 * Reads a v2 response body without losing a value on the way:
 * - a Kusto `long` (int64) above 2^53 would be rounded by JSON.parse (9223372036854775807 →
 *   …6000): such integers come back as strings of their exact digits;
 * - Kusto serialises real NaN/Infinity/-Infinity as bare tokens, which is not JSON: they come back
 *   as the strings "NaN", "Infinity" and "-Infinity" (which the loaders map to Postgres's specials).
 * The common case (neither present) is a plain JSON.parse.
 */
export function parseKustoJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // NaN / Infinity tokens: rewritten below
    }
  }
  return JSON.parse(text.replace(TOKEN, rewriteToken));
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
  // HasErrors with nothing to say what they are is still a failed query, never a success.
  if (!errors.length && completion?.HasErrors)
    errors.push({
      message: 'the DataSetCompletion frame says HasErrors but carries no OneApiErrors (the result may be incomplete)',
    });
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
