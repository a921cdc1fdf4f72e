// The one place environment variables are read. Every value is validated; a bad one names itself.
import path from 'node:path';
import { z } from 'zod';

const EnvironmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. localhost:7233').default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  KEEL_TASK_QUEUE: z.string().min(1).default('keel'),
  /** Where `keel dev` keeps its SQLite file and the example tools their outbox. */
  KEEL_HOME: z.string().min(1).default('.keel'),
  KEEL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  /** Activities a worker runs at once. */
  KEEL_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** host:port where the worker serves Prometheus metrics; unset = off. */
  KEEL_METRICS_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. 0.0.0.0:9464').optional(),
  /** Real model calls go to OpenAI (or OPENAI_BASE_URL) when set; without it only scenario runs work. */
  OPENAI_API_KEY: z.string().min(8, 'OPENAI_API_KEY looks too short to be a key').optional(),
  /** An OpenAI-compatible server (Ollama, vLLM, llama.cpp), e.g. http://localhost:11434/v1. */
  OPENAI_BASE_URL: z.url({ message: 'OPENAI_BASE_URL must be a URL such as http://localhost:11434/v1' }).optional(),
  /** Real model calls go to Anthropic when set and OPENAI_API_KEY is not. */
  ANTHROPIC_API_KEY: z.string().min(8, 'ANTHROPIC_API_KEY looks too short to be a key').optional(),
  /** `json`: one JSON object a line (with workflowId, runId, taskId), for log pipelines. */
  KEEL_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  /** Worker and SDK log level. */
  KEEL_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
});

export interface KeelConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  home: string;
  uiPort: number;
  temporalCliPath?: string;
  maxConcurrentActivities: number;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  metricsAddress?: string;
  logFormat: 'text' | 'json';
  openai?: { apiKey: string; baseURL?: string };
  anthropic?: { apiKey: string };
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): KeelConfig {
  const parsed = EnvironmentSchema.safeParse(emptyAsUnset(environment));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  const values = parsed.data;
  return {
    temporalAddress: values.TEMPORAL_ADDRESS,
    namespace: values.TEMPORAL_NAMESPACE,
    taskQueue: values.KEEL_TASK_QUEUE,
    home: path.resolve(values.KEEL_HOME),
    uiPort: values.KEEL_UI_PORT,
    ...(values.TEMPORAL_CLI_PATH ? { temporalCliPath: values.TEMPORAL_CLI_PATH } : {}),
    maxConcurrentActivities: values.KEEL_MAX_CONCURRENT_ACTIVITIES,
    logLevel: values.KEEL_LOG_LEVEL,
    logFormat: values.KEEL_LOG_FORMAT,
    ...(values.ANTHROPIC_API_KEY ? { anthropic: { apiKey: values.ANTHROPIC_API_KEY } } : {}),
    ...(values.OPENAI_API_KEY ? { openai: { apiKey: values.OPENAI_API_KEY, ...(values.OPENAI_BASE_URL ? { baseURL: values.OPENAI_BASE_URL } : {}) } } : {}),
    ...(values.KEEL_METRICS_ADDRESS ? { metricsAddress: values.KEEL_METRICS_ADDRESS } : {}),
  };
}

function emptyAsUnset(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}
