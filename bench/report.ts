// `npm run bench:report`: regenerates the README's table of bench figures from the JSON lines the
// benches recorded (.data/bench/results.jsonl, or the files given as arguments), so the README
// never quotes a figure no bench printed. `--check` exits 1 when the README is not up to date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_FILE } from './results.js';
import { existingRows, parseResults, renderTable, replaceBetweenMarkers } from './report-table.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const files = args.filter((a) => !a.startsWith('--'));
const sources = files.length ? files : [RESULTS_FILE];
const lines = sources.flatMap((f) => (existsSync(f) ? parseResults(readFileSync(f, 'utf8')) : []));
const readmePath = path.resolve(import.meta.dirname, '..', 'README.md');
const readme = readFileSync(readmePath, 'utf8');
// Benches without a recorded line here keep their row (a fresh clone has recorded none).
const next = replaceBetweenMarkers(readme, renderTable(lines, existingRows(readme)));
if (check) {
  if (next !== readme) {
    console.error('README.md figures are not what the recorded bench lines give: run npm run bench:report');
    process.exit(1);
  }
  console.log('README.md figures match the recorded bench lines');
} else {
  writeFileSync(readmePath, next);
  console.log(`README.md: bench table rebuilt from ${lines.length} recorded lines (${sources.join(', ')})`);
}
