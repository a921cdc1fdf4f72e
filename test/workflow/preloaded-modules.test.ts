// Keel's workflow modules are preloaded: evaluated once per V8 context and shared by every run
// (src/workflow-bundle.ts). The tests load a bundle as the SDK's reusable context does (the one the
// tests run, which global-setup builds with bundleKeelWorkflows, and one of a worker's own workflows
// file) and see which modules a run evaluates; the plugin's options are read; and every module of
// Keel's in the bundle is read for what would make sharing unsafe: state kept at module level.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { KeelPlugin } from '../../src/keel-plugin';
import { keelWorkflowsPath, withKeelPreload } from '../../src/workflow-bundle';
import { quietLogger } from '../helpers/temporal';

const root = path.resolve(__dirname, '../..');
const bundleCode = readFileSync(process.env.KEEL_TEST_WORKFLOW_BUNDLE!, 'utf8');
const bundledKeelModules = [...new Set([...bundleCode.matchAll(/^\/\*\*\*\/ "\.\/(src\/[^"]+\.ts)"/gm)].map((match) => match[1]!))];

/**
 * Module-level state that is safe to share between runs, by file and name, with the reason. A cache
 * whose entries depend only on their keys gives every run the same answer, whichever run filled it.
 */
const sharedOnPurpose: Record<string, string> = {
  'src/workflows/contracts.ts:patterns': 'compiled RegExps by source; used with test(), no global flag, so no lastIndex',
};

/** Top-level declarations that can hold a run's state: `let`/`var`, and `const x = new …`. */
function moduleLevelState(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExpressionStatement(statement)) found.push(`${file}: a statement runs at module level: ${statement.getText().slice(0, 60)}`);
    if (!ts.isVariableStatement(statement)) continue;
    const mutable = (statement.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) !== ts.NodeFlags.Const;
    for (const declaration of statement.declarationList.declarations) {
      const name = declaration.name.getText();
      const constructed = declaration.initializer !== undefined && ts.isNewExpression(declaration.initializer);
      if ((mutable || constructed) && !sharedOnPurpose[`${file}:${name}`]) found.push(`${file}: ${name} (${mutable ? 'let/var' : 'const = new …'})`);
    }
  }
  return found;
}

/**
 * Loads a bundle as the SDK's reusable V8 context does: a module required while the bundle loads
 * (its preloads) goes to the shared cache, one required after to the run's own. Returns both
 * caches' module ids after one run's import of the workflows, and the workflows.
 */
function loadAsTheSdkDoes(code: string): { shared: string[]; perRun: string[]; workflows: Record<string, unknown> } {
  const shared = new Map<string | symbol, unknown>();
  const perRun = new Map<string | symbol, unknown>();
  let running = false;
  const context = vm.createContext({ TextEncoder, TextDecoder, URL, URLSearchParams, AbortController, queueMicrotask, setTimeout, clearTimeout, console });
  const moduleCache = new Proxy(
    {},
    {
      get: (_, id) => shared.get(id) ?? perRun.get(id),
      set: (_, id, value) => {
        (running ? perRun : shared).set(id, value);
        return true;
      },
    },
  );
  Object.defineProperty(context, '__webpack_module_cache__', { value: moduleCache });
  vm.runInContext(code, context);
  vm.runInContext('__TEMPORAL__.preloadModules?.()', context);
  running = true;
  const workflows = vm.runInContext('__TEMPORAL__.importWorkflows()', context) as Record<string, unknown>;
  return { shared: [...shared.keys()].map(String), perRun: [...perRun.keys()].map(String), workflows };
}

describe('preloaded workflow modules', () => {
  test('a run evaluates none of Keel’s modules, nor the SDK modules they import: the bundle preloads them', () => {
    const { shared, perRun, workflows } = loadAsTheSdkDoes(bundleCode);
    expect(typeof workflows.agentRun).toBe('function');
    expect(bundledKeelModules.length).toBeGreaterThan(20);
    expect([...shared]).toEqual(expect.arrayContaining(bundledKeelModules.map((file) => `./${file}`)));
    expect(perRun).toEqual([]);
  });

  test('a worker that bundles its own workflows with withKeelPreload evaluates only its own modules a run', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(root, 'test/fixtures/own-workflows.ts'), ...withKeelPreload({}), logger: quietLogger });
    const { perRun, workflows } = loadAsTheSdkDoes(bundle.code);
    expect(Object.keys(workflows).sort()).toEqual(['agentRun', 'greet']);
    expect(perRun).toEqual(['./test/fixtures/own-workflows.ts']);
  });

  test('no module of Keel’s in the bundle keeps state at module level, except caches listed with their reason', () => {
    expect(bundledKeelModules).toEqual(expect.arrayContaining(['src/workflows/agent-run.ts', 'src/workflows/contracts.ts', 'src/shared/workflow.ts']));
    expect(bundledKeelModules.flatMap(moduleLevelState)).toEqual([]);
    // The allowances are still where they say: one gone stale is removed, not kept as a blanket.
    for (const entry of Object.keys(sharedOnPurpose)) {
      const [file, name] = entry.split(':') as [string, string];
      expect(readFileSync(path.join(root, file), 'utf8')).toMatch(new RegExp(`^(let|const) ${name}\\b`, 'm'));
    }
  });

  test('the plugin preloads them when it brings Keel’s workflows, keeping the worker’s own preloads, and leaves a worker’s own workflows alone', async () => {
    const plugin = await KeelPlugin.create({ config: loadConfig({ KEEL_CONFIG: '', KEEL_HOME: '.keel/test/preload' }), log: () => undefined });
    try {
      const keels = plugin.configureWorker({ taskQueue: 'q', bundlerOptions: { preloadModules: ['their-module'] } } as WorkerOptions);
      expect(keels.workflowsPath).toBe(keelWorkflowsPath);
      expect(keels.bundlerOptions?.preloadModules).toEqual(['their-module', keelWorkflowsPath]);
      const theirs = plugin.configureWorker({ taskQueue: 'q', workflowsPath: '/their/workflows.js' } as WorkerOptions);
      expect(theirs.bundlerOptions?.preloadModules).toBeUndefined();
    } finally {
      await plugin.close();
    }
  });
});
