// Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node builtins, no process,
// no provider SDKs. The override below enforces the rooms of ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.keel/**', 'coverage/**', 'eslint.config.mjs', 'test/fixtures/consumer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code cannot use Node builtins; do it in an activity.' })),
            { name: 'zod', message: 'The SDK evaluates workflow modules afresh for every run, and zod is costly: check input with src/workflows/contracts.ts.' },
          ],
          patterns: [
            { group: ['openai', 'openai/*', '@anthropic-ai/*', 'pg', 'pg/*'], message: 'Provider SDKs and I/O belong in activities, not workflows.' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflow code imports only @temporalio/workflow.' },
            { group: ['**/activities/*', '**/llm/*', '**/tools/*', '**/cli/*', '**/config*'], message: 'Workflow code imports only src/shared and types.' },
            {
              regex: '(^|/)shared(/(?!workflow$)[^/]+)?$',
              message: 'Workflow code imports the contracts from ../shared/workflow, the workflow-safe entry (the others bring zod into every run).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflow code cannot read process; pass values in the workflow input.' },
        { name: 'require', message: 'Workflow code imports only workflow-safe modules.' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'Network calls belong in activities.' },
      ],
    },
  },
);
