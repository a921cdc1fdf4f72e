// How Keel's workflow code is bundled: one place for the worker, `keel replay`, the tests and the bench.
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The workflow functions' entry module. */
export const keelWorkflowsPath = require.resolve('./workflows');

// The SDK evaluates a bundle's modules afresh for every run. zod and Keel's schemas were the bulk
// of that (~20 ms of worker CPU a run, bench/contract-check.mjs), so workflow code checks its input
// with a small checker that reads JSON Schemas generated from the zod schemas (workflows/contracts.ts). Preloading them instead (bundler option preloadModules) does not work:
// the SDK deep-freezes preloaded modules, and zod installs members on its schemas on first use, so
// every run failed ("Cannot define property safeParse, object is not extensible").
export function bundleKeelWorkflows(options: Pick<BundleOptions, 'logger' | 'plugins'> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: keelWorkflowsPath, ...options });
}
