// How Keel's workflow code is bundled: one place for the worker, `keel replay`, the tests and the bench.
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The workflow functions' entry module. */
export const keelWorkflowsPath = require.resolve('./workflows');

// Not preloaded (bundler option preloadModules), though it is the biggest per-run cost we measured:
// the SDK evaluates the bundle's modules afresh for every run, and src/shared (zod and the schemas
// built with it) is about 12 ms of worker CPU a run. Preloaded modules are deep-frozen, and zod
// installs members on its schemas on first use, so every run failed ("Cannot define property
// safeParse, object is not extensible"). The way to that cut is validation without zod in the
// workflow room.
export function bundleKeelWorkflows(options: Pick<BundleOptions, 'logger' | 'plugins'> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: keelWorkflowsPath, ...options });
}
