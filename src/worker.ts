// Worker entry: reads config, builds the activities' dependencies, runs the worker.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from './activities';
import { loadConfig, type KeelConfig } from './config';
import { AnthropicModel } from './llm/anthropic-model';
import { FallbackChainModel } from './llm/fallback-chain';
import { OpenAIModel } from './llm/openai-model';
import { telemetryFromEnvironment } from './telemetry';
import { builtinTools, ToolRegistry } from './tools';

export interface KeelWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Defaults to the built-in tools and no real model provider. */
  dependencies?: ActivityDependencies;
  /** A prebuilt workflow bundle (tests build one per run); default: bundle src/workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivities?: number;
  identity?: string;
  /** Worker plugins, e.g. OpenTelemetry (default: from the OTEL_* environment). */
  plugins?: WorkerOptions['plugins'];
}

export function defaultDependencies(config: Pick<KeelConfig, 'home'> & Partial<Pick<KeelConfig, 'openai' | 'anthropic'>>): ActivityDependencies {
  // Every configured provider, in order, each behind its own breaker (one per worker process).
  const providers = [
    ...(config.openai ? [new OpenAIModel({ apiKey: config.openai.apiKey, ...(config.openai.baseURL ? { baseURL: config.openai.baseURL, name: 'openai-compatible' } : {}) })] : []),
    ...(config.anthropic ? [new AnthropicModel({ apiKey: config.anthropic.apiKey })] : []),
  ];
  const tools = new ToolRegistry(builtinTools({ outboxDirectory: path.join(config.home, 'outbox') }));
  return { tools, ...(providers.length > 0 ? { model: new FallbackChainModel(providers) } : {}) };
}

/** One line for the operator: which model provider serves real runs (never the key). */
export function describeModelProvider(config: Pick<KeelConfig, 'openai' | 'anthropic'>): string {
  if (config.openai && config.anthropic) return `model providers: ${config.openai.baseURL ? `OpenAI-compatible at ${config.openai.baseURL}` : 'OpenAI'}, then Anthropic when OpenAI fails`;
  if (!config.openai && config.anthropic) return 'model provider: Anthropic';
  if (!config.openai) return 'no model provider: scenario runs only (set OPENAI_API_KEY or ANTHROPIC_API_KEY; OPENAI_BASE_URL for a compatible server)';
  return config.openai.baseURL ? `model provider: OpenAI-compatible at ${config.openai.baseURL}` : 'model provider: OpenAI';
}

export async function createKeelWorker(options: KeelWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.dependencies ?? defaultDependencies(loadConfig())),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 100,
    ...(options.plugins && options.plugins.length > 0 ? { plugins: options.plugins } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}

/** A worker configured from KeelConfig: its namespace, task queue, tools and concurrency. */
export function createConfiguredWorker(connection: NativeConnection, config: KeelConfig): Promise<Worker> {
  return createKeelWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    dependencies: defaultDependencies(config),
    maxConcurrentActivities: config.maxConcurrentActivities,
    plugins: [telemetryFromEnvironment()].filter((plugin) => plugin !== undefined),
  });
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

/** `keel worker`: runs until SIGINT/SIGTERM, then finishes what it started. */
export async function runWorker(config: KeelConfig = loadConfig()): Promise<void> {
  installRuntime(config);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const worker = await createConfiguredWorker(connection, config);
    await worker.run();
  } finally {
    await connection.close();
  }
}
