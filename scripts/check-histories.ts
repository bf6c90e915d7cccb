// `npm run check:histories [-- --base <git ref>]`: the CI guard beside the replay test (issue 21).
// The replay test replays every committed history, of this release and every earlier one, so a
// change to workflow code that breaks a running workflow fails `npm test`. This script makes sure
// that guard was not defeated by re-recording: histories of released versions must be unchanged
// against the base (default: main, or origin/main), and every fixture must match its checksum in
// manifest.json. It also says when workflow code changed, so a reviewer looks for patched().
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  frozenFixtureViolations,
  HISTORIES_DIR,
  loadHistory,
  readManifest,
  sha256,
  type FixtureChange,
} from '../test/support/histories.js';

const root = path.resolve(import.meta.dirname, '..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const refExists = (ref: string) => {
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    return true;
  } catch {
    return false;
  }
};

/** Paths whose change can alter the commands a workflow issues (what replay checks). */
const WORKFLOW_CODE = [/^src\/workflows\//, /^src\/pipelines\/[^/]+\/definition\.ts$/, /^src\/pipelines\/[^/]+\.ts$/];

function main(): number {
  const i = process.argv.indexOf('--base');
  const base = i > 0 ? process.argv[i + 1]! : ['origin/main', 'main'].find(refExists);
  const release = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const manifest = readManifest();
  const problems: string[] = [];
  for (const h of manifest.histories) {
    if (sha256(loadHistory(h).text) !== h.sha256) problems.push(`${h.file} does not match its checksum`);
  }
  if (!base || !refExists(base)) {
    console.log('check-histories: no base ref (main, origin/main or --base): checked checksums only');
  } else {
    const mergeBase = git('merge-base', base, 'HEAD');
    const rel = path.relative(root, HISTORIES_DIR);
    const changes: FixtureChange[] = git('diff', '--name-status', mergeBase, '--', rel)
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [status, ...files] = line.split('\t');
        return { status: status!, file: path.relative(rel, files.at(-1)!) };
      });
    problems.push(...frozenFixtureViolations(changes, release, manifest.retired));
    const code = git('diff', '--name-only', mergeBase, '--')
      .split('\n')
      .filter((f) => WORKFLOW_CODE.some((re) => re.test(f)));
    if (code.length) {
      console.log(
        `check-histories: workflow code changed since ${base} (${code.join(', ')}); the replay test checks it ` +
          'against every committed history — an incompatible change belongs behind patched() ' +
          '(README, "Deploying workflow changes")',
      );
    }
  }
  for (const p of problems) console.error(`check-histories: ${p}`);
  if (!problems.length)
    console.log(`check-histories: ${manifest.histories.length} histories, none of a past release changed`);
  return problems.length ? 1 : 0;
}

process.exit(main());
