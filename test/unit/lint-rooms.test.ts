// The lint rule that keeps workflow code deterministic really fires, and the tree is clean.
// Runs the eslint binary itself: its flat config cannot load inside jest's module sandbox.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const eslintBin = path.join(root, 'node_modules/eslint/bin/eslint.js');

interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
}

function lint(args: string[], stdin?: string): Array<{ filePath: string; messages: LintMessage[] }> {
  const result = spawnSync(process.execPath, [eslintBin, '--format', 'json', ...args], { cwd: root, input: stdin, encoding: 'utf8' });
  if (!result.stdout) throw new Error(`eslint printed nothing: ${result.stderr}`);
  return JSON.parse(result.stdout) as Array<{ filePath: string; messages: LintMessage[] }>;
}

test('workflow code may not use Node builtins, process, provider SDKs or activity code', () => {
  const text = [
    "import { readFileSync } from 'node:fs';",
    "import OpenAI from 'openai';",
    "import { createActivities } from '../activities/create-activities';",
    'export async function bad(): Promise<string> {',
    '  void OpenAI; void createActivities;',
    "  return readFileSync(process.env.HOME ?? '', 'utf8');",
    '}',
  ].join('\n');
  const [result] = lint(['--stdin', '--stdin-filename', 'src/workflows/agent-run.ts'], text);
  const messages = result!.messages.map((message) => `${message.ruleId}: ${message.message}`);
  expect(messages).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/no-restricted-imports: .*node:fs.*Node builtins/),
      expect.stringMatching(/no-restricted-imports: .*openai.*Provider SDKs/),
      expect.stringMatching(/no-restricted-imports: .*activities.*src\/shared/),
      expect.stringMatching(/no-restricted-globals: .*process/),
    ]),
  );
}, 60_000);

test('workflow code may not bring zod into every run: no zod, and the contracts only through ../shared/workflow', () => {
  const text = [
    "import { z } from 'zod';",
    "import { AgentRequestSchema, type Task } from '../shared';",
    "import { TaskSchema } from '../shared/task';",
    "import type { Plan } from '../shared/task';",
    "import { ModelKey } from '../shared/model-key';",
    "import { keelStatusKey, type Decision } from '../shared/workflow';",
    'export const used = [z, AgentRequestSchema, TaskSchema, ModelKey, keelStatusKey];',
    'export type Used = Task | Plan | Decision;',
  ].join('\n');
  const [result] = lint(['--stdin', '--stdin-filename', 'src/workflows/agent-run.ts'], text);
  const flagged = result!.messages.filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports').map((message) => message.line);
  expect(flagged).toEqual([1, 2, 3, 4, 5]);
}, 60_000);

test('floating promises are errors', () => {
  const text = 'export async function f(): Promise<void> {\n  Promise.resolve(1);\n}\n';
  const [result] = lint(['--stdin', '--stdin-filename', 'src/activities/interpolate.ts'], text);
  expect(result!.messages.map((message) => message.ruleId)).toContain('@typescript-eslint/no-floating-promises');
}, 60_000);

test('the source tree passes lint', () => {
  const problems = lint(['.']).flatMap((result) =>
    result.messages.map((message) => `${path.relative(root, result.filePath)}:${message.line} ${message.ruleId}: ${message.message}`),
  );
  expect(problems).toEqual([]);
}, 120_000);
