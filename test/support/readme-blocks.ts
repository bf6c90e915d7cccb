// The README's shell examples, as the README test runs them: every fenced shell block (```sh,
// ```bash) whose first line starts with `npm run`, `learnsync` or `temporal` (the provisioned
// `.tools/venv/bin/temporal` too). Untagged blocks are program output and never run.
// A comment on the line before the fence changes what is expected of it:
//   <!-- illustrative: why -->   not run (say why, e.g. it starts the whole stack on default ports)
//   <!-- exit N -->              run, and must exit with code N
import { readFileSync } from 'node:fs';

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  script: string;
  illustrative: boolean;
  expectedExit: number;
}

const COMMAND = /^(npm run|learnsync|temporal|\.tools\/venv\/bin\/temporal)\b/;

export function readmeShellBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const shell = /^```(sh|bash|shell|console)\s*$/.test(lines[i]!);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    if (!shell || !COMMAND.test(body[0] ?? '')) continue; // untagged blocks are program output
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = before >= 0 ? lines[before]!.trim() : '';
    blocks.push({
      line: start + 1,
      script: body.join('\n'),
      illustrative: marker.startsWith('<!-- illustrative'),
      expectedExit: Number(/^<!-- exit (\d+) -->$/.exec(marker)?.[1] ?? 0),
    });
  }
  return blocks;
}
