// Safe deploys (issue 21): every committed history — of this release and every earlier one —
// replays against the current workflow code without a non-determinism error, so a change that
// would break workflows running during a deploy fails here, not in production. A planted
// incompatible change (the nodes of a DAG scheduled in reverse order) shows the guard works and
// that its message names the history and the first mismatching event.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  describeReplayFailure,
  frozenFixtureViolations,
  HISTORIES_DIR,
  loadHistory,
  readManifest,
  sha256,
  type HistoryEntry,
} from '../support/histories.js';
import { projectRoot, quietRuntime } from '../support/temporal.js';

const manifest = readManifest();

/** Replays each history; returns one line per failure (empty when all replay). */
async function replayAll(bundle: { codePath: string } | { code: string }, entries: HistoryEntry[]): Promise<string[]> {
  quietRuntime();
  const histories = entries.map((e) => loadHistory(e).history);
  const failures: string[] = [];
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'learnsync-replay' },
    entries.map((e, i) => ({ workflowId: e.workflowId, history: histories[i] })),
  );
  // Results come in the order the histories went in.
  let i = 0;
  for await (const r of results) {
    if (r.error) failures.push(describeReplayFailure(entries[i]!.file, histories[i]!, r.error));
    i++;
  }
  return failures;
}

describe('committed histories', () => {
  it('cover every in-flight shape, and each file is exactly what the recorder wrote', async () => {
    const files = (await readdir(HISTORIES_DIR, { recursive: true })).filter((f) => f.endsWith('.json'));
    const listed = manifest.histories.map((h) => h.file);
    expect(files.filter((f) => f !== 'manifest.json').sort()).toEqual([...listed].sort());
    for (const h of manifest.histories) {
      const { text, history } = loadHistory(h);
      // A hand edit (or a re-record outside scripts/record-histories.ts) changes the checksum.
      expect(sha256(text), `${h.file} does not match manifest.json: re-record with npm run record:histories`).toBe(
        h.sha256,
      );
      expect(history.events?.length).toBe(h.events);
    }
    const shapes = manifest.histories.map((h) => `${h.workflowType}: ${h.shape}`).join('\n');
    // Slot: add the capture workflow's shape here once it records (test/workflows/histories/README.md).
    for (const needed of [/runPipeline: nightly/, /forced/, /retry/, /continued as new/, /Schedule/, /outage/]) {
      expect(shapes).toMatch(needed);
    }
    expect(manifest.histories.length).toBeGreaterThanOrEqual(6);
  });

  it('of released versions are frozen: only the current release may be re-recorded (npm run check:histories)', () => {
    const retired = [{ file: '0.0.9/old.json', reason: 'patch x retired' }];
    expect(
      frozenFixtureViolations(
        [
          { status: 'M', file: '0.1.0/nightly.json' },
          { status: 'M', file: 'manifest.json' },
          { status: 'A', file: '0.2.0/nightly.json' },
          { status: 'D', file: '0.0.9/old.json' },
        ],
        '0.1.0',
        retired,
      ),
    ).toEqual([]);
    const violations = frozenFixtureViolations(
      [
        { status: 'M', file: '0.0.9/nightly.json' },
        { status: 'D', file: '0.0.9/forced.json' },
      ],
      '0.1.0',
      retired,
    );
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/^0\.0\.9\/nightly\.json \(M\) belongs to a released version and is frozen/);
    expect(violations[1]).toMatch(/list it under "retired"/);
  });

  it('pass npm run check:histories against main (checksums only where there is no main)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-histories.ts'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/check-histories: /);
  });

  it('all replay against the current workflow bundle without a non-determinism error', async () => {
    const failures = await replayAll({ codePath: inject('workflowBundlePath') }, manifest.histories);
    expect(
      failures,
      'workflow code no longer replays these histories: put the change behind patched() (README, "Deploying ' +
        'workflow changes"); only histories of the unreleased current version may be re-recorded ' +
        '(npm run record:histories -- --replace)',
    ).toEqual([]);
  });
});

/**
 * Bundles a modified copy of src/workflows/ in which runPipeline starts the DAG's nodes in reverse
 * order — unconditionally, or behind patched() as the versioning policy asks. Imports outside the
 * folder point back at src/, so everything else is the real code.
 */
async function plantedBundle(dir: string, behindPatch: boolean): Promise<{ code: string }> {
  const src = path.join(projectRoot, 'src');
  await mkdir(dir, { recursive: true });
  await cp(path.join(src, 'workflows'), dir, { recursive: true });
  for (const f of await readdir(dir)) {
    const file = path.join(dir, f);
    let code = (await readFile(file, 'utf8')).replaceAll(`from '../`, `from '${src}/`);
    if (f === 'run-dag.ts') {
      const original = 'await Promise.all(def.nodes.map(run));';
      const reversed = 'await Promise.all([...def.nodes].reverse().map(run));';
      if (!code.includes(original)) throw new Error(`run-dag.ts no longer contains ${original}: update this test`);
      code = behindPatch
        ? code
            .replace('import {\n  ApplicationFailure,', 'import {\n  patched,\n  ApplicationFailure,')
            .replace(original, `if (patched('reverse-node-order')) ${reversed}\n  else ${original}`)
        : code.replace(original, reversed);
    }
    await writeFile(file, code);
  }
  const noop = () => {};
  return bundleWorkflowCode({
    workflowsPath: path.join(dir, 'index.ts'),
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  });
}

describe('an incompatible change', () => {
  const plantedDir = path.join(projectRoot, '.data', `planted-workflows-${process.pid}`);
  afterAll(async () => {
    await rm(plantedDir, { recursive: true, force: true });
  });

  it('fails replay, naming the history and the first mismatching event', async () => {
    const nightly = manifest.histories.find((h) => h.file.endsWith('/nightly.json'))!;
    const failures = await replayAll(await plantedBundle(path.join(plantedDir, 'bare'), false), [nightly]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      new RegExp(`^replay of ${nightly.file} failed: first mismatching event #\\d+ ACTIVITY_TASK_SCHEDULED`),
    );
    expect(failures[0]).toMatch(/[Nn]ondeterminism error: Activity type of scheduled event/);
  });

  it('behind patched() replays every committed history (the versioning policy)', async () => {
    const bundle = await plantedBundle(path.join(plantedDir, 'patched'), true);
    expect(bundle.code).toContain('reverse-node-order');
    expect(await replayAll(bundle, manifest.histories)).toEqual([]);
  });
});
