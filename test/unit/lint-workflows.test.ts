// The determinism rule is only worth having if it fires: lint code placed in src/workflows.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
async function lintWorkflow(code: string) {
  const [result] = await eslint.lintText(code, { filePath: 'src/workflows/probe.ts' });
  return result!.messages.map((m) => m.ruleId);
}

describe('workflow lint', () => {
  it('forbids Node built-ins, I/O modules and environment access in workflows', async () => {
    expect(await lintWorkflow(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`)).toContain('no-restricted-imports');
    expect(await lintWorkflow(`import fs from 'fs';\nexport const x = fs;\n`)).toContain('no-restricted-imports');
    expect(await lintWorkflow(`import pg from 'pg';\nexport const x = pg;\n`)).toContain('no-restricted-imports');
    expect(await lintWorkflow(`import { createPool } from '../connectors/postgres.js';\nexport const x = createPool;\n`)).toContain('no-restricted-imports');
    expect(await lintWorkflow(`export const x = process.env.X;\n`)).toContain('no-restricted-globals');
  });

  it('allows type-only imports of activities and the workflow SDK', async () => {
    expect(
      await lintWorkflow(`import type { Activities } from '../activities/index.js';\nimport { sleep } from '@temporalio/workflow';\nexport type A = Activities;\nexport const s = sleep;\n`),
    ).toEqual([]);
  });
});
