// OpenTelemetry: one trace per run (client → workflow → activities → model and tool calls),
// exported over OTLP when the standard OTEL_* variables say so, off otherwise.
import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { SpanRef } from '../shared';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

/** The plugin for Worker.create, when OTLP export is configured by OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT. */
export function telemetryFromEnvironment(environment: NodeJS.ProcessEnv = process.env, defaultServiceName = 'keel-worker'): OpenTelemetryPlugin | undefined {
  return exportingTelemetry(environment, defaultServiceName)?.plugin;
}

/**
 * For a short-lived client (the CLI): the plugin, and a flush to await before the process exits so
 * the StartWorkflow span that roots the run's trace is not lost.
 */
export function clientTelemetryFromEnvironment(environment: NodeJS.ProcessEnv = process.env): { plugins: OpenTelemetryPlugin[]; flush: () => Promise<void> } {
  const telemetry = exportingTelemetry(environment, 'keel-cli');
  return telemetry ? { plugins: [telemetry.plugin], flush: () => telemetry.processor.forceFlush() } : { plugins: [], flush: async () => undefined };
}

function exportingTelemetry(environment: NodeJS.ProcessEnv, defaultServiceName: string): { plugin: OpenTelemetryPlugin; processor: SpanProcessor } | undefined {
  const endpoint = environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? environment.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || environment.OTEL_TRACES_EXPORTER === 'none' || environment.OTEL_SDK_DISABLED === 'true') return undefined;
  const processor = new BatchSpanProcessor(new OTLPTraceExporter());
  return { plugin: telemetryPlugin(processor, environment.OTEL_SERVICE_NAME ?? defaultServiceName), processor };
}

/**
 * Workflow spans reach `spanProcessor` through the plugin's sink; activity, model and tool spans
 * through the global tracer provider registered here with the same processor, with an
 * AsyncLocalStorage context so each span finds its parent.
 */
export function telemetryPlugin(spanProcessor: SpanProcessor, serviceName = 'keel-worker'): OpenTelemetryPlugin {
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(spanProcessor);
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return new OpenTelemetryPlugin({ resource, spanProcessor });
}

const tracer = () => trace.getTracer('keel');

export interface ModelSpanFacts {
  provider: string;
  requestModel: string;
  taskId?: string;
  tier: string;
  operation: 'chat';
  /** Only when configured (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true): the messages sent. */
  content?: { system: string; prompt: string };
}

/**
 * A model call as a span with the GenAI semantic-convention attributes plus Keel's own.
 * Prompts and outputs are never put on spans.
 */
export async function inModelSpan<T>(
  facts: ModelSpanFacts,
  body: (span: Span) => Promise<T>,
  describe: (value: T) => { responseModel: string; inputTokens: number; outputTokens: number; costUsd: number; cacheHit?: boolean; provider?: string; text?: string },
): Promise<T> {
  return tracer().startActiveSpan(`${facts.operation} ${facts.requestModel}`, { kind: SpanKind.CLIENT }, async (span) => {
    span.setAttributes({
      'gen_ai.operation.name': facts.operation,
      'gen_ai.system': facts.provider,
      'gen_ai.provider.name': facts.provider,
      'gen_ai.request.model': facts.requestModel,
      'keel.tier': facts.tier,
      'keel.cache_hit': false,
      ...(facts.taskId ? { 'keel.task_id': facts.taskId } : {}),
      ...(facts.content
        ? { 'gen_ai.input.messages': JSON.stringify([{ role: 'system', content: facts.content.system }, { role: 'user', content: facts.content.prompt }]) }
        : {}),
    });
    try {
      const value = await body(span);
      const described = describe(value);
      span.setAttributes({
        'gen_ai.response.model': described.responseModel,
        'gen_ai.usage.input_tokens': described.inputTokens,
        'gen_ai.usage.output_tokens': described.outputTokens,
        'gen_ai.response.finish_reasons': ['stop'],
        'keel.cost_usd': described.costUsd,
        'keel.cache_hit': described.cacheHit ?? false,
        ...(described.provider ? { 'gen_ai.provider.name': described.provider, 'gen_ai.system': described.provider } : {}),
        ...(facts.content && described.text !== undefined ? { 'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', content: described.text }]) } : {}),
      });
      return value;
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A span's reference, for a span in another activity to continue it; undefined when traces are off. */
export function spanRef(span: Span): SpanRef | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { traceId, spanId, traceFlags } : undefined;
}

/** A tool call as a span naming the tool and its outcome; under `parent` (an agent's step) when given. */
export async function inToolSpan<T>(tool: string, taskId: string, scripted: boolean, body: () => Promise<T>, parent?: SpanRef): Promise<T> {
  // Named and labelled as OpenTelemetry's GenAI conventions name a tool's execution.
  const under = parent ? trace.setSpanContext(context.active(), { ...parent, isRemote: true }) : context.active();
  return tracer().startActiveSpan(`execute_tool ${tool}`, { kind: SpanKind.INTERNAL }, under, async (span) => {
    span.setAttributes({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'keel.tool.name': tool, 'keel.task_id': taskId, 'keel.tool.scripted': scripted });
    try {
      const value = await body();
      span.setAttribute('keel.tool.outcome', 'ok');
      return value;
    } catch (error) {
      span.setAttribute('keel.tool.outcome', 'error');
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function failSpan(span: Span, error: unknown): void {
  const kind = (error as { kind?: unknown }).kind;
  span.setAttribute('error.type', typeof kind === 'string' ? kind : (error as Error).name ?? 'error');
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
}
