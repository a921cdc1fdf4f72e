// The worker's parts: the activities' dependencies from config (tools, models, cache, blob store),
// the SDK runtime, and the low-level worker tests and benches build. KeelPlugin (keel-plugin.ts) is
// how Keel joins a worker, `keel worker`'s included.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from './activities';
import type { PayloadCodec } from '@temporalio/common';
import { blobStoreFor, defaultBlobThresholdBytes, type BlobStore } from './storage/blobs';
import { ConfigurationError, defaultModelSettings, loadConfig, type KeelConfig, type ModelSettings } from './config';
import { AnthropicModel } from './llm/anthropic-model';
import type { ModelClient } from './llm/model-client';
import { OpenAIModel } from './llm/openai-model';
import { MemoryResponseCache, PostgresResponseCache, type ResponseCache } from './llm/response-cache';
import { ModelRouter } from './llm/router';
import { builtinTools, loadToolModules, ToolModuleError, ToolRegistry, type ToolDefinition } from './tools';
import type { McpServers } from './mcp/servers';
import { keelBundlerOptions, keelWorkflowsPath } from './workflow-bundle';

export interface KeelWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Defaults to the built-in tools and no real model provider. */
  dependencies?: ActivityDependencies;
  /** A prebuilt workflow bundle (bundleKeelWorkflows; tests build one per run); default: bundle src/workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivities?: number;
  /** Workflow tasks one worker runs at once (default: the SDK's). */
  maxConcurrentWorkflowTasks?: number;
  identity?: string;
  /** Encrypts payloads in history; clients must use the same keys. */
  codec?: PayloadCodec;
  /** Worker plugins, e.g. OpenTelemetry (default: from the OTEL_* environment). */
  plugins?: WorkerOptions['plugins'];
  /** Runs kept in memory between workflow tasks (default: the SDK's, sized from the heap); one evicted replays its history. */
  maxCachedWorkflows?: number;
  /** Threads that run workflow code (default: the SDK's, 1). */
  workflowThreadPoolSize?: number;
}

type DependencyConfig = Pick<KeelConfig, 'home'> & Partial<Pick<KeelConfig, 'openai' | 'anthropic' | 'models' | 'captureMessageContent' | 'blobThresholdBytes' | 'toolModules' | 'approvals' | 'streamBatchMs'>>;

/**
 * The built-in tools, the user's (KEEL_TOOLS and the config file's `tools`, then own tools given in code) and the MCP servers'; a module that cannot be used,
 * or a name two tools share, stops the worker, naming it.
 */
function toolRegistry(config: DependencyConfig, mcp?: McpServers, own: ReadonlyArray<ToolDefinition<never>> = []): ToolRegistry {
  try {
    return new ToolRegistry([...builtinTools({ outboxDirectory: path.join(config.home, 'outbox') }), ...loadToolModules(config.toolModules ?? []), ...own], () => mcp?.tools ?? []);
  } catch (error) {
    if (error instanceof ToolModuleError) throw new ConfigurationError(error.message);
    if (error instanceof TypeError) throw new ConfigurationError(`${mcp && mcp.tools.length > 0 ? 'tool modules or mcpServers' : 'tool modules (KEEL_TOOLS, or "tools" in the config file)'}: ${error.message}`);
    throw error;
  }
}

/** The configured providers, by routing id (never the key in any name). */
function configuredProviders(config: DependencyConfig): ModelClient[] {
  return [
    ...(config.openai ? [new OpenAIModel({ apiKey: config.openai.apiKey, ...(config.openai.baseURL ? { baseURL: config.openai.baseURL } : {}) })] : []),
    ...(config.anthropic ? [new AnthropicModel({ apiKey: config.anthropic.apiKey, ...(config.anthropic.baseURL ? { baseURL: config.anthropic.baseURL } : {}) })] : []),
  ];
}

/** The response cache the settings ask for: PostgreSQL with a DSN, in-process otherwise, none when disabled. */
export function responseCache(settings: ModelSettings['cache']): ResponseCache | undefined {
  if (!settings.enabled) return undefined;
  if (settings.databaseUrl) return new PostgresResponseCache({ databaseUrl: settings.databaseUrl, ttlMs: settings.ttlMs });
  return new MemoryResponseCache({ maxEntries: settings.maxEntries, ttlMs: settings.ttlMs });
}

export function defaultDependencies(
  config: DependencyConfig,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each tool has its own input type
  overrides: { cache?: ResponseCache; mcp?: McpServers; blobs?: BlobStore; tools?: ReadonlyArray<ToolDefinition<any, any>> } = {},
): ActivityDependencies {
  const settings = config.models ?? defaultModelSettings;
  const providers = configuredProviders(config);
  const tools = toolRegistry(config, overrides.mcp, (overrides.tools ?? []) as ReadonlyArray<ToolDefinition<never>>);
  const captureContent = config.captureMessageContent === true;
  const blobs = { blobs: overrides.blobs ?? blobStoreForConfig(config), blobThresholdBytes: config.blobThresholdBytes ?? defaultBlobThresholdBytes, ...(config.approvals ? { approvals: config.approvals } : {}), ...(config.streamBatchMs !== undefined ? { streamBatchMs: config.streamBatchMs } : {}) };
  if (providers.length === 0) return { tools, prices: settings.prices, captureContent, ...blobs };
  const cache = 'cache' in overrides ? overrides.cache : responseCache(settings.cache);
  let model: ModelRouter;
  try {
    model = new ModelRouter({ providers, routing: settings.routing, prices: settings.prices, breaker: settings.breaker, ...(cache ? { cache } : {}) });
  } catch (error) {
    throw new ConfigurationError(`${(error as Error).message}: set the missing key or change routing in the config file`);
  }
  return { tools, prices: settings.prices, model, captureContent, ...blobs };
}

/** Where this worker's blobs live: PostgreSQL when the config names a database, else files under KEEL_HOME. */
export function blobStoreForConfig(config: DependencyConfig): BlobStore {
  return blobStoreFor({ home: config.home, databaseUrl: (config.models ?? defaultModelSettings).cache.databaseUrl });
}

/** Lines for the operator: which models serve each tier, and the cache (never a key). */
export function describeModelProvider(config: Pick<KeelConfig, 'openai' | 'anthropic'> & Partial<Pick<KeelConfig, 'models'>>): string {
  if (!config.openai && !config.anthropic) return 'no model provider: scenario runs only (set OPENAI_API_KEY or ANTHROPIC_API_KEY; OPENAI_BASE_URL for a compatible server)';
  const settings = config.models ?? defaultModelSettings;
  const configured = new Set([...(config.openai ? ['openai'] : []), ...(config.anthropic ? ['anthropic'] : [])]);
  const tiers = (['small', 'medium', 'large'] as const).map(
    (tier) => `${tier} → ${settings.routing[tier].filter((entry) => configured.has(entry.provider)).map((entry) => `${entry.provider}:${entry.model}`).join(', ') || 'nothing'}`,
  );
  const where = config.openai?.baseURL ? ` (openai is the OpenAI-compatible server at ${config.openai.baseURL})` : '';
  const cache = !settings.cache.enabled ? 'off' : settings.cache.databaseUrl ? 'PostgreSQL' : 'in-process';
  return `model routing: ${tiers.join('; ')}${where}; response cache: ${cache}`;
}

export async function createKeelWorker(options: KeelWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.dependencies ?? defaultDependencies(loadConfig())),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: keelWorkflowsPath, bundlerOptions: keelBundlerOptions }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 100,
    ...(options.maxConcurrentWorkflowTasks ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTasks } : {}),
    // One workflow task at a time means one poll, and the SDK allows that only without a sticky cache.
    ...(options.maxConcurrentWorkflowTasks === 1 ? { maxCachedWorkflows: 0, maxConcurrentWorkflowTaskPolls: 1 } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.workflowThreadPoolSize !== undefined ? { workflowThreadPoolSize: options.workflowThreadPoolSize } : {}),
    ...(options.plugins && options.plugins.length > 0 ? { plugins: options.plugins } : {}),
    ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}

const keyVariables: Record<string, string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

/** A key the provider refuses stops the worker, naming the variable; a provider that cannot be asked only warns. */
export async function checkKeys(clients: ModelClient[], config: Pick<KeelConfig, 'openai'>, log: (line: string) => void): Promise<void> {
  for (const client of clients) {
    if (!client.checkKey) continue;
    const check = await client.checkKey();
    if (check.ok) continue;
    const variable = keyVariables[client.name] ?? `the ${client.name} key`;
    const where = client.name === 'openai' && config.openai?.baseURL ? config.openai.baseURL : client.name;
    if (check.refused) throw new ConfigurationError(`${variable} was refused by ${where} (${check.message}): set a valid key, or unset it to serve scenario runs only`);
    log(`could not check ${variable} with ${where} at start (${check.message}); the first model call will tell`);
  }
}

/** One JSON object a line: time, level, message, then the SDK's context (workflowId, runId, activity, taskId …). */
function writeJsonLog(entry: LogEntry): void {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  process.stdout.write(`${JSON.stringify({ time, level: entry.level, message: entry.message, ...entry.meta }, jsonSafe)}\n`);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** Sets the SDK's log level for this process; call before the first connection or worker. */
export function installRuntime(config: Pick<KeelConfig, 'logLevel' | 'metricsAddress' | 'logFormat'>): void {
  Runtime.install({
    logger: config.logFormat === 'json' ? new DefaultLogger(config.logLevel, writeJsonLog) : new DefaultLogger(config.logLevel),
    ...(config.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: config.metricsAddress,
                // Agent runs take seconds to hours (a human may decide): buckets in ms up to 4 h.
                histogramBucketOverrides: { keel_run_duration: [1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000] },
              },
            },
          },
        }
      : {}),
  });
}
