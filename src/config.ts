// The one place environment variables are read. Every value is validated; a bad one names itself.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { z } from 'zod';
import { parseCodecKeys, type CodecKey } from './security/codec';
import { parseDecisionKeys, parseSigningKey, type SigningKey } from './security/decision-keys';
import { ApproverPolicySchema } from './shared/decision';
import type { ApprovalTrust } from './shared/approvals';
import { parseApiTokens, parseRoleGroups, type ApiToken, type OidcSettings } from './security/api-tokens';
import { jsonSchemaOf } from './shared/json-schema';
import { ScenarioFileSchema } from './shared/scenario-file';
import { SuppliedPlanSchema } from './shared/task';
import { defaultPrices, type ModelPrice } from './llm/pricing';
import { defaultRouting, type Routing } from './llm/router';

/** Providers a route may name: the ones Keel has adapters for. */
export const providerIds = ['openai', 'anthropic'] as const;

const RouteChainSchema = z
  .array(z.object({ provider: z.enum(providerIds), model: z.string().min(1, 'name the model') }).strict())
  .min(1, 'a tier needs at least one model');

/** A server name: it prefixes its tools' names (`<server>__<tool>`). */
const mcpServerName = /^[A-Za-z0-9_-]{1,32}$/;
/** `${NAME}` in a value is the environment variable NAME, read when the worker connects (never written to history or logs). */
const variableValues = z.record(z.string().min(1), z.string());
const McpStdioSchema = z
  .object({
    command: z.string().min(1, 'name the command that starts the server'),
    args: z.array(z.string()).default([]),
    env: variableValues.optional(),
    cwd: z.string().min(1).optional(),
    /** The worker starts without this server (and warns) when it cannot start or answer. */
    optional: z.boolean().default(false),
    /** Tools (the server's names; "*" matches any run of characters) that wait for a human before each call. */
    approve: z.array(z.string().min(1)).optional(),
  })
  .strict();
const McpHttpSchema = z
  .object({
    url: z.url({ message: 'url must be the server\'s Streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp' }),
    headers: variableValues.optional(),
    optional: z.boolean().default(false),
    approve: z.array(z.string().min(1)).optional(),
  })
  .strict();
export const McpServerSchema = z.union([McpStdioSchema, McpHttpSchema], { error: 'an MCP server is { "command", "args"?, "env"?, "cwd"?, "optional"?, "approve"? } (stdio) or { "url", "headers"?, "optional"?, "approve"? } (Streamable HTTP)' });
export type McpServerConfig = z.output<typeof McpServerSchema>;

/** keel.config.json (or .yaml): model routing, prices, breakers, the response cache, MCP servers. Every key is optional. */
export const ConfigFileSchema = z
  .object({
    /** The JSON Schema editors check the file against (schemas/keel.config.schema.json); not read otherwise. */
    $schema: z.string().optional(),
    /** Modules with your tools (each exports `tools`), relative to this file; KEEL_TOOLS adds more. */
    tools: z.array(z.string().min(1, 'a tool module path cannot be empty')).optional(),
    /** Tools from Model Context Protocol servers, each registered as `<server>__<tool>`. */
    mcpServers: z
      .record(z.string(), McpServerSchema)
      .superRefine((servers, context) => {
        for (const name of Object.keys(servers)) {
          if (!mcpServerName.test(name)) context.addIssue({ code: 'custom', path: [name], message: 'an MCP server name is 1-32 letters, digits, "_" or "-" (it prefixes its tools\' names)' });
        }
      })
      .optional(),
    routing: z.object({ small: RouteChainSchema.optional(), medium: RouteChainSchema.optional(), large: RouteChainSchema.optional() }).strict().optional(),
    prices: z.record(z.string().min(1), z.object({ inputPerMillion: z.number().min(0), outputPerMillion: z.number().min(0) }).strict()).optional(),
    breaker: z
      .object({
        failureThreshold: z.number().int().min(1).max(1_000).default(5),
        resetMs: z.number().int().min(100).max(3_600_000).default(30_000),
        halfOpenSuccesses: z.number().int().min(1).max(100).default(2),
      })
      .strict()
      .optional(),
    cache: z
      .object({
        enabled: z.boolean().default(true),
        /** PostgreSQL DSN; KEEL_DATABASE_URL overrides it. Without one, an in-process LRU. */
        databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'databaseUrl must be a postgres:// URL').optional(),
        ttlSeconds: z.number().int().min(1).max(365 * 86_400).default(86_400),
        maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
      })
      .strict()
      .optional(),
    /** Who may decide escalations in every run of this worker (a run's request may add its own; both apply). */
    approvals: ApproverPolicySchema.strict().optional(),
  })
  .strict();

/**
 * The JSON Schemas of the files users write, derived from the zod schemas that check them, for
 * editors (`"$schema"`) and other tools: keel.config.json, scenario files, and plan files (`--plan`).
 * `npm run build` writes them to schemas/.
 */
export function userFileSchemas(): Record<string, Record<string, unknown>> {
  const titled = (title: string, schema: Record<string, unknown>) => ({ title, ...schema });
  const plan = jsonSchemaOf(SuppliedPlanSchema) as { properties: Record<string, unknown> };
  plan.properties = { $schema: { type: 'string' }, ...plan.properties };
  return {
    'keel.config.schema.json': titled('keel.config.json: model routing, prices, breakers, the response cache, MCP servers', jsonSchemaOf(ConfigFileSchema)),
    'scenario.schema.json': titled('A Keel scenario: a request, a scripted model and scripted tools, and what the run should end with', jsonSchemaOf(ScenarioFileSchema)),
    'plan.schema.json': titled("A plan a request brings (keel run --plan FILE): the run's tasks, no planner call", plan),
  };
}

export interface ModelSettings {
  routing: Routing;
  prices: Record<string, ModelPrice>;
  breaker: { failureThreshold: number; resetMs: number; halfOpenSuccesses: number };
  cache: { enabled: boolean; databaseUrl?: string; ttlMs: number; maxEntries: number };
}

export const defaultModelSettings: ModelSettings = {
  routing: defaultRouting,
  prices: defaultPrices,
  breaker: { failureThreshold: 5, resetMs: 30_000, halfOpenSuccesses: 2 },
  cache: { enabled: true, ttlMs: 86_400_000, maxEntries: 10_000 },
};

const EnvironmentSchema = z.object({
  // With TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE, read by the SDK's envconfig (temporalConnection).
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. localhost:7233').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  KEEL_TASK_QUEUE: z.string().min(1).default('keel'),
  /** Where `keel dev` keeps its SQLite file and the example tools their outbox. */
  KEEL_HOME: z.string().min(1).default('.keel'),
  KEEL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  /** Activities a worker runs at once. */
  KEEL_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Runs a worker keeps in memory between their workflow tasks; an evicted run replays its history. */
  KEEL_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .refine((count) => count !== 1, 'use 0 (no cache) or at least 2 (the runs one worker has in flight)')
    .optional(),
  /** host:port where the worker serves Prometheus metrics; unset = off. */
  KEEL_METRICS_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. 0.0.0.0:9464').optional(),
  /** Real model calls go to OpenAI (or OPENAI_BASE_URL) when set; without it only scenario runs work. */
  OPENAI_API_KEY: z.string().min(8, 'OPENAI_API_KEY looks too short to be a key').optional(),
  /** An OpenAI-compatible server (Ollama, vLLM, llama.cpp), e.g. http://localhost:11434/v1. */
  OPENAI_BASE_URL: z.url({ message: 'OPENAI_BASE_URL must be a URL such as http://localhost:11434/v1' }).optional(),
  /** Real model calls go to Anthropic when set and OPENAI_API_KEY is not. */
  ANTHROPIC_API_KEY: z.string().min(8, 'ANTHROPIC_API_KEY looks too short to be a key').optional(),
  /** Anthropic's API through a gateway or proxy instead, e.g. https://llm-gateway.internal/anthropic. */
  ANTHROPIC_BASE_URL: z.url({ message: 'ANTHROPIC_BASE_URL must be a URL such as https://llm-gateway.internal/anthropic' }).optional(),
  /** The config file (JSON or YAML); default ./keel.config.json when it exists. */
  KEEL_CONFIG: z.string().min(1).optional(),
  /** PostgreSQL for the shared response cache, e.g. postgres://postgres@127.0.0.1:5432/postgres. */
  KEEL_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'KEEL_DATABASE_URL must be a postgres:// URL').optional(),
  /** `json`: one JSON object a line (with workflowId, runId, taskId), for log pipelines. */
  KEEL_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  /** Encrypt payloads in history: "id:base64key[,id:base64key…]"; the first encrypts, all decrypt. */
  KEEL_CODEC_KEYS: z.string().min(1).optional(),
  /** The public keys whose signatures on decisions and starts the workers trust: "id:<64 hex>[:identity][,…]" (`keel keys new`). */
  KEEL_DECISION_KEYS: z.string().min(1).optional(),
  /** A door's signing key, "id:<64 hex>": the CLI, the SDK, keel serve and keel mcp sign decisions and starts with it. */
  KEEL_SIGNING_KEY: z.string().min(1).optional(),
  /** Where `keel codec-server` listens (the Web UI's codec endpoint). */
  KEEL_CODEC_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. 127.0.0.1:8888').default('127.0.0.1:8888'),
  /** Outputs larger than this are stored outside history (KEEL_DATABASE_URL's PostgreSQL, else KEEL_HOME/blobs). */
  KEEL_BLOB_THRESHOLD_BYTES: z.coerce.number().int().min(1_024).max(1_900_000).default(262_144),
  /** Where `keel serve` listens for webhooks. */
  KEEL_SERVE_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'use host:port, e.g. 0.0.0.0:8787').default('127.0.0.1:8787'),
  /** Shared secret: webhooks must carry X-Keel-Signature: sha256=<HMAC of the body>. Unset = unsigned. */
  /** Bearer tokens for keel serve's run and decision endpoints: name:sha256-of-token:role+role, comma-separated. */
  KEEL_API_TOKENS: z.string().optional(),
  /** OIDC JWTs for the same endpoints: all of JWKS URL, issuer and audience, and which groups give which role. */
  KEEL_OIDC_JWKS_URL: z.string().url('KEEL_OIDC_JWKS_URL must be the URL of the issuer\'s JWKS').optional(),
  KEEL_OIDC_ISSUER: z.string().optional(),
  KEEL_OIDC_AUDIENCE: z.string().optional(),
  KEEL_OIDC_GROUPS_CLAIM: z.string().default('groups'),
  KEEL_OIDC_NAME_CLAIM: z.string().default('email'),
  KEEL_OIDC_ROLE_GROUPS: z.string().optional(),
  KEEL_WEBHOOK_SECRET: z.string().min(16, 'KEEL_WEBHOOK_SECRET must be at least 16 characters').optional(),
  /** Larger webhook bodies get 413. */
  KEEL_WEBHOOK_MAX_BYTES: z.coerce.number().int().min(1_024).max(100 * 1_048_576).default(1_048_576),
  /** A repeated event id attaches to the run it started for this long. */
  /** Model text deltas reach a run's stream in batches at most this often (ms); 0: no deltas, only the run's own events. */
  KEEL_STREAM_BATCH_MS: z.coerce.number().int().min(0).max(60_000).default(100),
  /** How often GET /runs/:id/events sends a keep-alive comment while the run is quiet. */
  KEEL_SSE_KEEPALIVE_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  KEEL_DEDUPE_WINDOW_MS: z.coerce.number().int().min(1_000).max(365 * 86_400_000).default(86_400_000),
  /** OpenTelemetry GenAI convention: `true` puts prompts and answers on model-call spans. */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: z.enum(['true', 'false']).default('false'),
  /** The worker's own tools: comma-separated JS modules, each exporting `tools` (defineTool() definitions). */
  KEEL_TOOLS: z.string().min(1).optional(),
  /** Worker and SDK log level. */
  KEEL_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
});

export interface KeelConfig {
  temporalAddress: string;
  namespace: string;
  /** How to reach Temporal beyond its address: TLS (mTLS), an API key, gRPC metadata; from envconfig. Never printed. */
  temporal: TemporalConnection;
  taskQueue: string;
  home: string;
  uiPort: number;
  temporalCliPath?: string;
  maxConcurrentActivities: number;
  /** Default: the SDK's, sized from the worker's heap. */
  maxCachedWorkflows?: number;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  metricsAddress?: string;
  logFormat: 'text' | 'json';
  openai?: { apiKey: string; baseURL?: string };
  anthropic?: { apiKey: string; baseURL?: string };
  /** Routing, prices, breakers and cache: defaults, then the config file, then KEEL_DATABASE_URL. */
  models: ModelSettings;
  /** The config file that was read, if any. */
  configFile?: string;
  /** Prompts and answers on model-call spans. */
  captureMessageContent: boolean;
  /** Payload encryption keys, the first encrypting; undefined = history in plain JSON. */
  codecKeys?: CodecKey[];
  codecAddress: string;
  /** Outputs over this many bytes of JSON go to the blob store. */
  blobThresholdBytes: number;
  /** Model deltas are batched this long for the run's stream; 0 sends none. */
  streamBatchMs: number;
  /** Modules with the user's tools (config file `tools`, then KEEL_TOOLS), resolved to absolute paths. */
  toolModules: string[];
  /** MCP servers whose tools the worker offers, by name (config file `mcpServers`). */
  mcpServers: Record<string, McpServerConfig>;
  /**
   * The environment these settings were read from: `${VAR}` in mcpServers reads it when the worker
   * connects. Not enumerable, so printing or copying the config leaves it out (a copy reads the process's).
   */
  readonly environment?: NodeJS.ProcessEnv;
  /** Signed decisions: the keys workers trust (KEEL_DECISION_KEYS) and the worker's approver policy (the config file's approvals). */
  approvals?: ApprovalTrust;
  /** The key this process signs decisions and starts with (KEEL_SIGNING_KEY); never printed. */
  signingKey?: SigningKey;
  /** `keel serve`. */
  serve: { address: string; secret?: string; maxBodyBytes: number; dedupeWindowMs: number; keepAliveMs: number; apiTokens?: ApiToken[]; oidc?: OidcSettings };
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
  const apiTokens = values.KEEL_API_TOKENS === undefined ? undefined : parseApiTokens(values.KEEL_API_TOKENS);
  if (typeof apiTokens === 'string') throw new ConfigurationError(`invalid configuration:\n  - ${apiTokens}`);
  const oidc = oidcSettings(values);
  const temporal = temporalConnection(emptyAsUnset(environment), values.TEMPORAL_ADDRESS, values.TEMPORAL_NAMESPACE);
  const codecKeys = values.KEEL_CODEC_KEYS === undefined ? undefined : parseCodecKeys(values.KEEL_CODEC_KEYS);
  if (typeof codecKeys === 'string') throw new ConfigurationError(`invalid configuration:\n  - KEEL_CODEC_KEYS: ${codecKeys}`);
  const decisionKeys = values.KEEL_DECISION_KEYS === undefined ? undefined : parseDecisionKeys(values.KEEL_DECISION_KEYS);
  if (typeof decisionKeys === 'string') throw new ConfigurationError(`invalid configuration:\n  - ${decisionKeys}`);
  const signingKey = values.KEEL_SIGNING_KEY === undefined ? undefined : parseSigningKey(values.KEEL_SIGNING_KEY);
  if (typeof signingKey === 'string') throw new ConfigurationError(`invalid configuration:\n  - ${signingKey}`);
  const file = values.KEEL_CONFIG ?? (existsSync('keel.config.json') ? 'keel.config.json' : undefined);
  const fileSettings = file ? readConfigFile(file) : {};
  const approvals = decisionKeys || fileSettings.approvals ? { keys: decisionKeys ?? [], ...(fileSettings.approvals ? { policy: fileSettings.approvals } : {}) } : undefined;
  const models = modelSettings(fileSettings, values.KEEL_DATABASE_URL);
  const config: KeelConfig = {
    models,
    captureMessageContent: values.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true',
    ...(codecKeys ? { codecKeys } : {}),
    ...(approvals ? { approvals } : {}),
    ...(signingKey ? { signingKey } : {}),
    codecAddress: values.KEEL_CODEC_ADDRESS,
    blobThresholdBytes: values.KEEL_BLOB_THRESHOLD_BYTES,
    streamBatchMs: values.KEEL_STREAM_BATCH_MS,
    mcpServers: fileSettings.mcpServers ?? {},
    toolModules: [
      ...(fileSettings.tools ?? []).map((module) => path.resolve(path.dirname(file!), module)),
      ...(values.KEEL_TOOLS ?? '').split(',').map((module) => module.trim()).filter(Boolean).map((module) => path.resolve(module)),
    ],
    serve: {
      address: values.KEEL_SERVE_ADDRESS,
      maxBodyBytes: values.KEEL_WEBHOOK_MAX_BYTES,
      dedupeWindowMs: values.KEEL_DEDUPE_WINDOW_MS,
      keepAliveMs: values.KEEL_SSE_KEEPALIVE_MS,
      ...(values.KEEL_WEBHOOK_SECRET ? { secret: values.KEEL_WEBHOOK_SECRET } : {}),
      ...(apiTokens ? { apiTokens } : {}),
      ...(oidc ? { oidc } : {}),
    },
    ...(file ? { configFile: path.resolve(file) } : {}),
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    temporal,
    taskQueue: values.KEEL_TASK_QUEUE,
    home: path.resolve(values.KEEL_HOME),
    uiPort: values.KEEL_UI_PORT,
    ...(values.TEMPORAL_CLI_PATH ? { temporalCliPath: values.TEMPORAL_CLI_PATH } : {}),
    maxConcurrentActivities: values.KEEL_MAX_CONCURRENT_ACTIVITIES,
    ...(values.KEEL_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: values.KEEL_MAX_CACHED_WORKFLOWS } : {}),
    logLevel: values.KEEL_LOG_LEVEL,
    logFormat: values.KEEL_LOG_FORMAT,
    ...(values.ANTHROPIC_API_KEY ? { anthropic: { apiKey: values.ANTHROPIC_API_KEY, ...(values.ANTHROPIC_BASE_URL ? { baseURL: values.ANTHROPIC_BASE_URL } : {}) } } : {}),
    ...(values.OPENAI_API_KEY ? { openai: { apiKey: values.OPENAI_API_KEY, ...(values.OPENAI_BASE_URL ? { baseURL: values.OPENAI_BASE_URL } : {}) } } : {}),
    ...(values.KEEL_METRICS_ADDRESS ? { metricsAddress: values.KEEL_METRICS_ADDRESS } : {}),
  };
  return Object.defineProperty(config, 'environment', { value: environment, enumerable: false });
}

/** KEEL_OIDC_*: all of the JWKS URL, issuer, audience and role groups, or none. */
function oidcSettings(values: z.output<typeof EnvironmentSchema>): OidcSettings | undefined {
  const required = { KEEL_OIDC_JWKS_URL: values.KEEL_OIDC_JWKS_URL, KEEL_OIDC_ISSUER: values.KEEL_OIDC_ISSUER, KEEL_OIDC_AUDIENCE: values.KEEL_OIDC_AUDIENCE, KEEL_OIDC_ROLE_GROUPS: values.KEEL_OIDC_ROLE_GROUPS };
  const missing = Object.entries(required).filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length === 4) return undefined;
  if (missing.length > 0) throw new ConfigurationError(`invalid configuration:\n  - OIDC tokens need all of KEEL_OIDC_JWKS_URL, KEEL_OIDC_ISSUER, KEEL_OIDC_AUDIENCE and KEEL_OIDC_ROLE_GROUPS; missing ${missing.join(', ')}`);
  const roleGroups = parseRoleGroups(values.KEEL_OIDC_ROLE_GROUPS!);
  if (typeof roleGroups === 'string') throw new ConfigurationError(`invalid configuration:\n  - ${roleGroups}`);
  return { jwksUrl: values.KEEL_OIDC_JWKS_URL!, issuer: values.KEEL_OIDC_ISSUER!, audience: values.KEEL_OIDC_AUDIENCE!, groupsClaim: values.KEEL_OIDC_GROUPS_CLAIM, nameClaim: values.KEEL_OIDC_NAME_CLAIM, roleGroups };
}

/** What a connection to Temporal needs, in the shape both the client's and the worker's connections take. */
export interface TemporalConnection {
  address: string;
  namespace: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
  /** Where the settings came from, for messages: the profile's name when a config file had one. */
  profile?: string;
}

/**
 * The connection, read as the `temporal` CLI reads it (the SDK's envconfig): a profile from the TOML
 * config file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE,
 * else "default"), overridden by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_* and TEMPORAL_GRPC_META_*. A file that cannot be read names the setting.
 */
export function temporalConnection(environment: Record<string, string>, address: string | undefined, namespace: string | undefined): TemporalConnection {
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: environment });
  } catch (error) {
    throw new ConfigurationError(connectionSettingProblem(error as Error & { path?: string }, environment));
  }
  const options = loaded.connectionOptions;
  return {
    address: address ?? options.address ?? 'localhost:7233',
    namespace: namespace ?? loaded.namespace ?? 'default',
    ...(options.tls !== undefined && options.tls !== null ? { tls: options.tls } : {}),
    ...(typeof options.apiKey === 'string' ? { apiKey: options.apiKey } : {}),
    ...(options.metadata ? { metadata: options.metadata as Record<string, string> } : {}),
    ...(environment.TEMPORAL_PROFILE ? { profile: environment.TEMPORAL_PROFILE } : {}),
  };
}

/** What `Connection.connect` and `NativeConnection.connect` take, from the connection settings. */
export function connectOptions(connection: TemporalConnection): { address: string; tls?: TLSConfig | boolean; apiKey?: string; metadata?: Record<string, string> } {
  const { address, tls, apiKey, metadata } = connection;
  return { address, ...(tls !== undefined ? { tls } : {}), ...(apiKey ? { apiKey } : {}), ...(metadata ? { metadata } : {}) };
}

/** True when the connection speaks TLS (mTLS, a custom CA, or the default that an API key turns on). */
export function usesTls(connection: { tls?: unknown }): boolean {
  return connection.tls !== undefined && connection.tls !== false;
}

/** "TEMPORAL_TLS_CLIENT_CERT_PATH names /x.pem, which cannot be read (ENOENT) ...": the setting, never a key. */
function connectionSettingProblem(error: Error & { path?: string }, environment: Record<string, string>): string {
  const settings = ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_CONFIG_FILE'];
  const file = error.path;
  const setting = settings.find((name) => file !== undefined && environment[name] !== undefined && path.resolve(environment[name]!) === path.resolve(file));
  const code = (error as { code?: string }).code;
  if (file && setting) return `${setting} names ${file}, which cannot be read${code ? ` (${code})` : ''}: fix the path, or unset it`;
  if (file) return `the Temporal connection settings name ${file}, which cannot be read${code ? ` (${code})` : ''}: check the profile's tls paths in the TOML config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)`;
  return `the Temporal connection settings cannot be read: ${error.message} (the TOML config file, TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE and TEMPORAL_* variables)`;
}

function emptyAsUnset(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

/** Reads and validates the config file; every problem names the file and the key. */
export function readConfigFile(file: string): z.output<typeof ConfigFileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`cannot read the config file ${file} (KEEL_CONFIG): ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`the config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  const parsed = ConfigFileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigurationError(`invalid config file ${file}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  return parsed.data;
}

/** Defaults, overlaid by the file's values (per tier, per model), then the DSN from the environment. */
export function modelSettings(file: z.output<typeof ConfigFileSchema>, databaseUrl?: string): ModelSettings {
  const cache = file.cache ?? { enabled: true, ttlSeconds: 86_400, maxEntries: 10_000 };
  const dsn = databaseUrl ?? cache.databaseUrl;
  return {
    routing: { ...defaultModelSettings.routing, ...file.routing },
    prices: { ...defaultModelSettings.prices, ...file.prices },
    breaker: file.breaker ?? defaultModelSettings.breaker,
    cache: { enabled: cache.enabled, ttlMs: cache.ttlSeconds * 1_000, maxEntries: cache.maxEntries, ...(dsn ? { databaseUrl: dsn } : {}) },
  };
}
