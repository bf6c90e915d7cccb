import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Write to a temporary file in the same folder, then rename: readers see the old file or the new one, never half of
 * one.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}
