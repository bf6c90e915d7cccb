// CSV cells that a spreadsheet cannot turn into a formula. A cell starting with = + - @, a tab or
// a carriage return is prefixed with ' (OWASP's advice for CSV injection), unless the consumer is
// a machine that wants the raw value (CSV_NEUTRALISE_FORMULAS=false). Files written in Node use
// csvCell; files Postgres writes with COPY … CSV use csvSafeSql on their text columns — both from
// the one FORMULA_START below. writeCsvAtomic streams rows into a file created 0640 under a
// temporary name and renamed into place.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** What a spreadsheet reads as the start of a formula (or of a cell it re-parses). */
export const FORMULA_START = /^[=+\-@\t\r]/;
const FORMULA_START_SQL = "'^[=+@\\t\\r-]'";

/** One CSV field: neutralised (by default), quoted when it holds a comma, quote or line break. */
export function csvCell(value: unknown, opts: { neutralise?: boolean } = {}): string {
  if (value === null || value === undefined) return '';
  let s =
    value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Numbers are data, not formulas: -5 stays -5.
  if (opts.neutralise !== false && typeof value !== 'number' && typeof value !== 'bigint' && FORMULA_START.test(s))
    s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A SQL expression for a text column of a COPY … CSV export, neutralised like csvCell. */
export function csvSafeSql(column: string, neutralise = true): string {
  return neutralise
    ? `CASE WHEN ${column} ~ E${FORMULA_START_SQL} THEN '''' || ${column} ELSE ${column} END AS ${column}`
    : column;
}

export function csvRow(values: readonly unknown[], opts: { neutralise?: boolean } = {}): string {
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
  opts: { neutralise?: boolean; mode?: number } = {},
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
    await write(csvRow(header, { neutralise: false }));
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
