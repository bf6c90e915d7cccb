// Output files: written whole or not at all, and never world-readable — they hold personal data
// (e-mails, account ids). 0640/0750 before the umask, so a stricter umask (077) still wins.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const OUTPUT_FILE_MODE = 0o640;
export const OUTPUT_DIR_MODE = 0o750;

/**
 * Write to a temporary file in the same folder, then rename: readers see the old file or the new one, never half of
 * one.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: OUTPUT_DIR_MODE });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  // A fresh temporary file gets the mode; the rename replaces an older, laxer file with it.
  await writeFile(tmp, content, { mode: OUTPUT_FILE_MODE });
  await rename(tmp, file);
}
