// Keel inside a worker the user already runs: a Temporal plugin that adds Keel's workflows,
// activities, payload codec and telemetry to their own Worker.create, and closes what it opened
// (MCP servers, the blob store, the response cache) when that worker stops. `keel worker` and
// `keel dev` build their workers with it too, so there is one way Keel joins a worker.
import { SimplePlugin } from '@temporalio/plugin';
import { NativeConnection, Worker, type BundleOptions, type NativeConnectionOptions, type ReplayWorkerOptions, type WorkerOptions } from '@temporalio/worker';
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { createActivities, type ActivityDependencies } from './activities';
import { ConfigurationError, connectOptions, loadConfig, type KeelConfig } from './config';
import { PostgresResponseCache } from './llm/response-cache';
import { McpServerError, McpServers } from './mcp/servers';
import { telemetryFromEnvironment } from './observability/telemetry';
import { AesGcmCodec } from './security/codec';
import type { ToolDefinition } from './tools';
import { blobStoreForConfig, checkKeys, defaultDependencies, installRuntime } from './worker';
import { keelWorkflowsPath, withKeelPreload } from './workflow-bundle';

export interface KeelPluginOptions {
  /** Keel's settings; default: the environment and keel.config.json, read as `keel worker` reads them. */
  config?: KeelConfig;
  /** Your own tools, offered next to the built-in ones, KEEL_TOOLS modules and MCP servers' tools. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each tool has its own input type
  tools?: ReadonlyArray<ToolDefinition<any, any>>;
  /** Where the plugin says what it offers (tools, MCP servers) and warns; default: stderr. */
  log?: (line: string) => void;
}

/**
 * Keel's workflows, activities, codec and telemetry for a `Worker.create` you already have:
 *
 *     const keel = await KeelPlugin.create({ tools: [myTool] });
 *     const worker = await Worker.create({ connection, taskQueue: 'keel', plugins: [keel] });
 *
 * Keel's workflows are registered when the worker has none of its own; a worker that has its own
 * re-exports Keel's from its workflows file (`export * from 'keel/workflows'`).
 */
export class KeelPlugin extends SimplePlugin {
  private closing: Promise<void> | undefined;
  private readonly alsoClose: Array<() => Promise<void>> = [];

  private constructor(
    /** What the activities use: tools, models, blob store. */
    readonly dependencies: ActivityDependencies,
    private readonly config: KeelConfig,
    private readonly telemetry: OpenTelemetryPlugin | undefined,
    private readonly resources: () => Promise<void>,
  ) {
    super({
      name: 'keel',
      activities: createActivities(dependencies),
      ...(config.codecKeys ? { dataConverter: { payloadCodecs: [new AesGcmCodec(config.codecKeys)] } } : {}),
    });
  }

  /**
   * Connects what the activities need (MCP servers, the response cache) and checks it: a bad
   * config, a server that cannot start or a refused model key is a ConfigurationError naming it.
   */
  static async create(options: KeelPluginOptions = {}): Promise<KeelPlugin> {
    const config = options.config ?? loadConfig();
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    // One blob store: MCP results' images and resources go there, as large outputs do.
    const blobs = blobStoreForConfig(config);
    let mcp: McpServers | undefined = undefined;
    // A server's `notifications/tools/list_changed` refreshes its tools; the operator sees the new list.
    const onToolsChanged = (server: string) => {
      for (const line of mcp?.describe(server) ?? []) log(`tools changed: ${line}`);
    };
    mcp = await McpServers.connect(config.mcpServers, { warn: log, blobs, onToolsChanged, ...(config.environment ? { environment: config.environment } : {}) }).catch(async (error: unknown) => {
      await blobs.close();
      throw error instanceof McpServerError ? new ConfigurationError(error.message) : error;
    });
    const connected = mcp;
    const dependencies = defaultDependencies(config, { mcp, blobs, ...(options.tools ? { tools: options.tools } : {}) });
    const close = async () => {
      await dependencies.model?.cache?.close();
      await blobs.close();
      await connected.close();
    };
    try {
      log(`tools: ${dependencies.tools.names.join(', ')}${config.toolModules.length > 0 ? ` (modules: ${config.toolModules.join(', ')})` : ''}`);
      for (const line of mcp.describe()) log(line);
      if (dependencies.model) await checkKeys(dependencies.model.clients, config, log);
      const cache = dependencies.model?.cache;
      if (cache instanceof PostgresResponseCache) {
        await cache.check().catch((error: unknown) => {
          throw new ConfigurationError(`the response cache cannot use PostgreSQL (KEEL_DATABASE_URL or cache.databaseUrl): ${(error as Error).message}`);
        });
      }
    } catch (error) {
      await close();
      throw error;
    }
    return new KeelPlugin(dependencies, config, telemetryFromEnvironment(), close);
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const withKeel: WorkerOptions = {
      ...options,
      // Keel's workflows unless the worker brings its own (a path, or a bundle such as bundleKeelWorkflows makes).
      ...(options.workflowBundle || options.workflowsPath ? {} : { workflowsPath: keelWorkflowsPath, bundlerOptions: withKeelPreload(options.bundlerOptions) }),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? this.config.maxConcurrentActivities,
      ...(options.maxCachedWorkflows === undefined && this.config.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: this.config.maxCachedWorkflows } : {}),
    };
    const configured = super.configureWorker(withKeel);
    return this.telemetry ? this.telemetry.configureWorker(configured) : configured;
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    const configured = super.configureReplayWorker(options);
    return this.telemetry ? this.telemetry.configureReplayWorker(configured) : configured;
  }

  override configureBundler(options: BundleOptions): BundleOptions {
    const configured = super.configureBundler(options);
    return this.telemetry ? this.telemetry.configureBundler(configured) : configured;
  }

  /** Runs the worker; when it stops, closes the MCP servers, the blob store and the cache. */
  override async runWorker(worker: Worker, next: (worker: Worker) => Promise<void>): Promise<void> {
    try {
      await (this.telemetry ? this.telemetry.runWorker(worker, next) : super.runWorker(worker, next));
    } finally {
      await this.close();
    }
  }

  /** Also close this when the worker stops (a connection the caller opened for it, say). */
  closeWith(close: () => Promise<void>): this {
    this.alsoClose.push(close);
    return this;
  }

  /** Closes what the plugin opened; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.resources();
      for (const close of this.alsoClose) await close();
    })();
    return this.closing;
  }
}

/** A worker configured from KeelConfig (its namespace, task queue, models, cache, tools and concurrency), through KeelPlugin. */
export async function createConfiguredWorker(
  connection: NativeConnection,
  config: KeelConfig,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  prebuilt: Pick<WorkerOptions, 'workflowBundle'> = {},
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const plugin = await KeelPlugin.create({ config, log });
  const worker = await Worker.create({ connection, namespace: config.namespace, taskQueue: config.taskQueue, ...prebuilt, plugins: [plugin] }).catch(async (error: unknown) => {
    await plugin.close();
    throw error;
  });
  return { worker, close: () => plugin.close() };
}

/** `keel worker`: runs until SIGINT/SIGTERM, then finishes what it started. */
export async function runWorker(config: KeelConfig = loadConfig()): Promise<void> {
  installRuntime(config);
  const connection = await NativeConnection.connect(connectOptions(config.temporal));
  try {
    const { worker, close } = await createConfiguredWorker(connection, config);
    await worker.run().finally(close);
  } finally {
    await connection.close();
  }
}

export interface CreateKeelWorkerOptions extends KeelPluginOptions {
  /** Default: a connection made from the config's Temporal settings (address, TLS, API key: TEMPORAL_* and the profile), closed when the worker stops. */
  connection?: NativeConnection;
  /** Instead of the config's, for the connection made here (as KeelClient.connect takes them). */
  address?: string;
  namespace?: string;
  tls?: NativeConnectionOptions['tls'];
  apiKey?: string;
  /** Default: the config's (KEEL_TASK_QUEUE, else "keel"). */
  taskQueue?: string;
}

/**
 * A worker that runs Keel: its workflows, its activities with your tools next to Keel's, on the
 * config's namespace and task queue. `await worker.run()` serves until `worker.shutdown()`.
 */
export async function createKeelWorker(options: CreateKeelWorkerOptions = {}): Promise<Worker> {
  const config = options.config ?? loadConfig();
  const plugin = await KeelPlugin.create({ ...options, config });
  const settings = {
    ...connectOptions(config.temporal),
    ...(options.address ? { address: options.address } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  };
  const connection = options.connection ?? (await NativeConnection.connect(settings).catch(async (error: unknown) => {
    await plugin.close();
    throw error;
  }));
  if (!options.connection) plugin.closeWith(() => connection.close());
  return Worker.create({ connection, namespace: options.namespace ?? config.namespace, taskQueue: options.taskQueue ?? config.taskQueue, plugins: [plugin] }).catch(async (error: unknown) => {
    await plugin.close();
    throw error;
  });
}
