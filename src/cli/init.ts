// `keel init [DIR]`: a small, working project that embeds Keel: one tool of its own, a worker, a
// scenario, and a test of it through keel/testing. `npm install && npm test` passes in it.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './cli-error';
import type { CliIo } from './io';

export interface InitOptions {
  force?: boolean;
  /** What package.json depends on for keel: a version range, a tarball path or a URL (default: ^this version). */
  keel?: string;
}

/** Versions the project is made with: the ones this Keel is built and tested with. */
function versions(): { keel: string; zod: string; worker: string; typescript: string; typesNode: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const own = require('../../package.json') as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const exact = (range: string | undefined, fallback: string) => (range ?? fallback).replace(/^[\^~]/, '');
  return {
    keel: own.version,
    zod: `^${exact(own.dependencies.zod, '4.0.0')}`,
    worker: exact(own.dependencies['@temporalio/worker'], '1.24.0'),
    typescript: `^${exact(own.devDependencies?.typescript, '5.9.0')}`,
    typesNode: `^${exact(own.devDependencies?.['@types/node'], '20.0.0')}`,
  };
}

export function initCommand(directory: string | undefined, options: InitOptions, io: CliIo): number {
  const target = path.resolve(directory ?? '.');
  if (existsSync(target) && readdirSync(target).length > 0 && !options.force) {
    throw new CliError(`${target} is not empty: keel init writes a new project. Choose an empty or new directory, or pass --force to write over the files it makes`);
  }
  const version = versions();
  const keelSpec = options.keel ? (/^[.~/]/.test(options.keel) ? `file:${path.resolve(options.keel)}` : options.keel) : `^${version.keel}`;
  const name = path.basename(target).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'keel-agent';
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        private: true,
        scripts: {
          // `npm install` builds, so `npx keel dev` finds the compiled tools keel.config.json names.
          prepare: 'tsc',
          build: 'tsc',
          test: 'tsc && node --test dist/test/',
          worker: 'tsc && node dist/src/worker.js',
          dev: 'tsc && keel dev --run scenarios/hello.json',
        },
        dependencies: { '@temporalio/worker': version.worker, keel: keelSpec, zod: version.zod },
        devDependencies: { '@types/node': version.typesNode, typescript: version.typescript },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      { compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, esModuleInterop: true, skipLibCheck: true, outDir: 'dist', rootDir: '.', types: ['node'] }, include: ['src', 'test'] },
      null,
      2,
    )}\n`,
    'keel.config.json': `${JSON.stringify({ $schema: './node_modules/keel/schemas/keel.config.schema.json', tools: ['./dist/src/tools.js'] }, null, 2)}\n`,
    'src/tools.ts': `// Your tools: each is an activity Keel calls with retries, an idempotency key and a trace.
import { defineTool, KeelError } from 'keel/tools';
import { z } from 'zod';

export const shout = defineTool({
  name: 'shout',
  description: 'Upper-cases a text',
  input: z.object({ text: z.string() }),
  run: async ({ text }) => {
    if (text.trim() === '') throw new KeelError('semantic', 'there is nothing to shout');
    return { loud: text.toUpperCase() };
  },
});

export const tools = [shout];
`,
    'src/worker.ts': `// A worker that runs Keel's workflows and your tools (TEMPORAL_ADDRESS, KEEL_TASK_QUEUE; keel.config.json).
import { createKeelWorker } from 'keel/worker';
import { tools } from './tools';

async function main(): Promise<void> {
  const worker = await createKeelWorker({ tools });
  process.once('SIGINT', () => worker.shutdown());
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
}

main().catch((error: unknown) => {
  process.stderr.write(\`\${error instanceof Error ? error.message : String(error)}\\n\`);
  process.exit(1);
});
`,
    'scenarios/hello.json': `${JSON.stringify(
      {
        $schema: '../node_modules/keel/schemas/scenario.schema.json',
        name: 'hello',
        description: 'The planner (scripted) asks for your shout tool, which runs for real; the answer comes from its output.',
        request: { goal: 'Greet the team loudly', tools: ['shout'] },
        model: { plan: [{ tasks: [{ id: 'greet', kind: 'tool', tool: 'shout', description: 'Shout the greeting', input: { text: 'hello, team' } }], outputFrom: 'greet' }] },
        tools: {},
        expect: { status: 'completed', decisions: [] },
      },
      null,
      2,
    )}\n`,
    'test/agent.test.ts': `// The agent's scenario, run on a real Temporal dev server with your tools: no model key needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from 'keel/testing';
import { tools } from '../src/tools';

test('hello: the shout tool answers', async () => {
  const result = await runScenario('scenarios/hello.json', { tools });
  assert.equal(result.status, 'completed');
  assert.deepEqual(JSON.parse(result.output ?? ''), { loud: 'HELLO, TEAM' });
});
`,
    'README.md': `# ${name}

An agent on Keel: durable Temporal workflows that plan, call tools, recover and ask a human when
they must.

\`\`\`sh
npm install                                   # also compiles (npm run build)
npm test                                      # runs scenarios/hello.json on a local Temporal dev server
npx keel dev --run scenarios/hello.json       # the dev server, the Web UI and a worker with your tools
\`\`\`

- \`src/tools.ts\`: your tools (\`defineTool\` from \`keel/tools\`); keel.config.json names the compiled
  module, so \`keel worker\` and \`keel dev\` offer them.
- \`src/worker.ts\`: a worker of your own (\`createKeelWorker\` from \`keel/worker\`): \`npm run worker\`.
- \`scenarios/hello.json\`: a run with a scripted model; \`expect\` says how it ends.
- \`test/agent.test.ts\`: runs the scenario with \`runScenario\` from \`keel/testing\`.

The first run builds the \`temporal\` CLI with Go if it is not on PATH (several minutes, once).
`,
    '.gitignore': 'node_modules/\ndist/\n.keel/\n',
  };
  for (const [file, text] of Object.entries(files)) {
    const where = path.join(target, file);
    mkdirSync(path.dirname(where), { recursive: true });
    writeFileSync(where, text);
  }
  io.out(`Wrote a Keel project to ${target}:`);
  for (const file of Object.keys(files)) io.out(`  ${file}`);
  const shown = path.relative(process.cwd(), target);
  io.out(`\nNext: cd ${shown.startsWith('..') ? target : shown || '.'} && npm install && npm test`);
  return 0;
}
