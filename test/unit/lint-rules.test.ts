// The architecture rules are only worth having if they fire: lint probe code placed in each zone
// and check which rule answers. (prettier/prettier is left out: probes are not formatted.)
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId ?? m.message).filter((r) => r !== 'prettier/prettier');
}
const lintWorkflow = (code: string) => lint('src/workflows/probe.ts', code);

describe('determinism rule', () => {
  it('forbids Node built-ins, I/O modules and environment access in workflows', async () => {
    expect(await lintWorkflow(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`)).toContain(
      'no-restricted-imports',
    );
    expect(await lintWorkflow(`import fs from 'fs';\nexport const x = fs;\n`)).toContain('no-restricted-imports');
    expect(await lintWorkflow(`import pg from 'pg';\nexport const x = pg;\n`)).toContain('no-restricted-imports');
    expect(
      await lintWorkflow(`import { createPool } from '../connectors/postgres.js';\nexport const x = createPool;\n`),
    ).toContain('learnsync/boundaries');
    expect(await lintWorkflow(`export const x = process.env.X;\n`)).toContain('no-restricted-globals');
  });

  it("applies to each family's definition.ts and the engine modules, not to its activities", async () => {
    const io = `import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`;
    expect(await lint('src/pipelines/github/definition.ts', io)).toContain('no-restricted-imports');
    expect(await lint('src/pipelines/registry.ts', io)).toContain('no-restricted-imports');
    expect(await lint('src/pipelines/github/activities.ts', io)).toEqual([]);
  });

  it('allows type-only imports of activities and the workflow SDK', async () => {
    expect(
      await lintWorkflow(
        `import type { Activities } from '../activities/index.js';\n` +
          `import { sleep } from '@temporalio/workflow';\nexport type A = Activities;\nexport const s = sleep;\n`,
      ),
    ).toEqual([]);
  });

  it('lets workflow code reach a family through its definition.ts only', async () => {
    expect(
      await lintWorkflow(
        `import { githubNightly } from '../pipelines/github/definition.js';\nexport const x = githubNightly;\n`,
      ),
    ).toEqual([]);
    expect(
      await lintWorkflow(`import { PER_PAGE } from '../pipelines/github/activities.js';\nexport const x = PER_PAGE;\n`),
    ).toContain('learnsync/boundaries');
  });
});

describe('layer boundaries', () => {
  it('a family never imports another family', async () => {
    const code = `import { pagesFor } from '../school-api/plan.js';\nexport const x = pagesFor;\n`;
    expect(await lint('src/pipelines/github/probe.ts', code)).toContain('learnsync/boundaries');
    expect(await lint('src/pipelines/school-api/probe.ts', code.replace('../school-api/', './'))).toEqual([]);
  });

  it('only the wiring imports sample code', async () => {
    const code = (spec: string) =>
      `import { startGithubServer } from '${spec}';\nexport const x = startGithubServer;\n`;
    expect(await lint('src/pipelines/github/probe.ts', code('./sample/server.js'))).toContain('learnsync/boundaries');
    expect(await lint('src/cli/commands/probe.ts', code('../../pipelines/github/sample/server.js'))).toContain(
      'learnsync/boundaries',
    );
    expect(await lint('src/runtime/probe.ts', code('../stack/sample-servers.js'))).toContain('learnsync/boundaries');
    expect(await lint('src/stack/probe.ts', code('../pipelines/github/sample/server.js'))).toEqual([]);
  });

  it('connectors import no Temporal and nothing above them', async () => {
    expect(
      await lint(
        'src/connectors/probe.ts',
        `import { Context } from '@temporalio/activity';\nexport const x = Context;\n`,
      ),
    ).toContain('learnsync/boundaries');
    expect(
      await lint(
        'src/connectors/probe.ts',
        `import { heartbeat } from '../runtime/heartbeat.js';\nexport const x = heartbeat;\n`,
      ),
    ).toContain('learnsync/boundaries');
    expect(
      await lint(
        'src/connectors/probe.ts',
        `import { ConfigError } from '../errors.js';\nexport const x = ConfigError;\n`,
      ),
    ).toEqual([]);
  });

  it('arrows point one way: runtime imports no family, families import no CLI', async () => {
    expect(
      await lint(
        'src/runtime/probe.ts',
        `import { PER_PAGE } from '../pipelines/github/activities.js';\nexport const x = PER_PAGE;\n`,
      ),
    ).toContain('learnsync/boundaries');
    expect(
      await lint(
        'src/pipelines/github/probe.ts',
        `import { UsageError } from '../../cli/types.js';\nexport const x = UsageError;\n`,
      ),
    ).toContain('learnsync/boundaries');
    expect(
      await lint(
        'src/pipelines/github/probe.ts',
        `import { startHeartbeat } from '../../runtime/heartbeat.js';\nexport const x = startHeartbeat;\n`,
      ),
    ).toEqual([]);
  });
});

describe('line width', () => {
  // Prettier wraps code at 120 but leaves strings, SQL and comments alone: max-len covers those.
  const long = `export const sql = '${'x'.repeat(120)}';\n`;
  it('no line over 120 characters, except a long URL', async () => {
    expect(await lint('src/pipelines/github/probe.ts', long)).toContain('max-len');
    expect(await lint('test/probe.test.ts', `// ${'y'.repeat(120)}\nexport const x = 1;\n`)).toContain('max-len');
    expect(
      await lint('bench/probe.ts', `// see https://example.com/${'z'.repeat(120)}\nexport const x = 1;\n`),
    ).toEqual([]);
  });

  it('exempts the checksummed migrations', async () => {
    expect(await lint('src/warehouse/migrations/999_probe.ts', long)).toEqual([]);
  });
});
