// CSV output shared by every export: one cell encoder (RFC 4180 quoting, and formula injection
// neutralised as OWASP advises — a text cell starting with = + - @ tab or CR gets a leading ' so a
// spreadsheet shows it instead of evaluating it) and a streaming writer that creates the file
// with owner/group-only permissions under a temporary name and renames it into place.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface CsvOptions {
  /** Prefix risky text cells with ' (default true; off only for machine consumers). */
  neutraliseFormulas?: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV cell. Numbers, booleans and dates are data, not text: they are never prefixed. */
export function csvCell(value: unknown, opts: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (opts.neutraliseFormulas !== false && FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: readonly unknown[], opts: CsvOptions = {}): string {
  return values.map((v) => csvCell(v, opts)).join(',') + '\r\n';
}

/**
 * Streams rows to `file` through a temporary file in the same folder (mode 0640 unless told
 * otherwise), then renames it: readers see the old file or the new one, never half of one.
 * Returns the number of data rows written.
 */
export async function writeCsvAtomic(
  file: string,
  header: readonly string[],
  rows: AsyncIterable<readonly unknown[]>,
  opts: CsvOptions & { mode?: number } = {},
): Promise<number> {
  const mode = opts.mode ?? 0o640;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const out = createWriteStream(tmp, { mode });
  let n = 0;
  try {
    const write = async (chunk: string) => {
      if (!out.write(chunk)) await once(out, 'drain');
    };
    await write(csvRow(header, { neutraliseFormulas: false }));
    for await (const row of rows) {
      await write(csvRow(row, opts));
      n++;
    }
    out.end();
    await once(out, 'finish');
    // The umask may have narrowed the mode; it can never have widened it, but make it exact.
    await chmod(tmp, mode);
    await rename(tmp, file);
    return n;
  } catch (err) {
    // Let the stream finish opening/closing its descriptor first, or the file could reappear after rm.
    if (!out.closed) {
      const closed = once(out, 'close').catch(() => undefined);
      out.destroy();
      await closed;
    }
    await rm(tmp, { force: true });
    throw err;
  }
}
