// `keel/worker`: Keel in a worker. `createKeelWorker` makes one from Keel's settings and your tools;
// `KeelPlugin` adds Keel to a `Worker.create` you already have.
export { KeelPlugin, type KeelPluginOptions } from '../keel-plugin';
export { createKeelWorker, type CreateKeelWorkerOptions } from '../keel-plugin';
export { loadConfig, ConfigurationError, type KeelConfig } from '../config';
export { bundleKeelWorkflows, keelBundlerOptions, keelWorkflowsPath, withKeelPreload } from '../workflow-bundle';
