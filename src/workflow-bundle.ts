// How Keel's workflow code is bundled: one place for the worker, the plugin, `keel replay`, the tests and the bench.
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The workflow functions' entry module. */
export const keelWorkflowsPath = require.resolve('./workflows');

// The SDK evaluates a bundle's modules afresh for every run, unless the bundle preloads them: then
// they are evaluated once per V8 context, before any run, and shared (the SDK deep-freezes their
// exports). Keel's workflow modules keep nothing of a run at module level (a test reads them for
// module-level state, test/workflow/preloaded-modules.test.ts), so every bundle of them preloads
// them all, from the entry: a run evaluates none of Keel's modules and none of the SDK's that they
// import (bench/results/workflow-ab-2026-12-04.md). zod could not be preloaded (it installs members on
// its schemas on first use, which a frozen schema refuses), which is one reason workflow code
// checks its input with a small checker of generated JSON Schemas instead (workflows/contracts.ts).
export const keelBundlerOptions = { preloadModules: [keelWorkflowsPath] } satisfies Pick<BundleOptions, 'preloadModules'>;

/** `options.preloadModules` with Keel's workflow modules added. */
export function withKeelPreload<T extends { preloadModules?: string[] }>(options: T | undefined): T & { preloadModules: string[] } {
  const preloadModules = [...new Set([...(options?.preloadModules ?? []), ...keelBundlerOptions.preloadModules])];
  return { ...(options as T), preloadModules };
}

export function bundleKeelWorkflows(options: Pick<BundleOptions, 'logger' | 'plugins'> = {}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: keelWorkflowsPath, ...keelBundlerOptions, ...options });
}
