// An agent task's loop, one activity per step and per tool call: the workflow runs the loop. A
// step reads the transcript back from the blob store (a chain of links, each stored once), asks
// the model, and adds its own link; a tool call runs one tool and answers with its result or the
// error the model should read.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import {
  describeIssues,
  isBlobRef,
  KeelError,
  ModelKey,
  type AgentMessage,
  type AgentStepInput,
  type AgentStepOutput,
  type AgentToolCall,
  type BlobRef,
  type ToolCallInput,
  type ToolCallOutput,
  type TranscriptHead,
} from '../shared';
import type { ChatTurn, ToolSpec } from '../llm/model-client';
import { malformedText } from '../llm/scripted-model';
import { inToolSpan } from '../observability/telemetry';
import { resolveRefs, type BlobStore } from '../storage/blobs';
import { atBoundary } from './at-boundary';
import type { ActivityDependencies } from './create-activities';
import { withCurrentNames } from './earlier-inputs';
import type { createModelCalls, ModelAnswer } from './model-calls';
import { agentPrompt, agentSystem, agentToolSystem } from './prompts';
import { parseIfJson } from './structured-output';
import { scriptedToolOutcome } from './tasks';

const agentStepJsonSchema = z.toJSONSchema(
  z.union([z.object({ toolCalls: z.array(z.object({ tool: z.string(), input: z.record(z.string(), z.unknown()) })).min(1) }), z.object({ answer: z.unknown() })]),
) as Record<string, unknown>;

const ToolCallsSchema = z.array(z.object({ tool: z.string().min(1), input: z.record(z.string(), z.unknown()).default({}) }).strict()).min(1);

export function agentActivities(deps: ActivityDependencies, models: ReturnType<typeof createModelCalls>, offload: (value: unknown) => Promise<unknown>) {
  const { callModel } = models;
  const transcripts = new TranscriptCache();

  async function agentStep(scheduled: AgentStepInput): Promise<AgentStepOutput> {
    return atBoundary(async (spent) => {
      const input = { ...withCurrentNames(scheduled), dependencies: await resolveRefs(scheduled.dependencies, deps.blobs) };
      const written = [...(await readTranscript(input.transcript, deps.blobs, transcripts)), ...input.newMessages];
      const transcript = await resolveRefs(written, deps.blobs);
      const tools = deps.tools.describe(input.task.tools ?? []);
      const known = new Set(tools.map((tool) => tool.name));
      // Scripted tools the worker does not have are known by name alone.
      const offered = [...tools, ...(input.task.tools ?? []).filter((name) => !known.has(name)).map((name) => ({ name, description: '(scripted)' }))];
      // A scenario scripts each step as Keel's JSON ({ toolCalls } or the answer); a real model is
      // offered the tools through its provider's own tool calling, and the transcript as turns.
      const scripted = input.script !== undefined;
      const request = scripted
        ? { system: agentSystem, prompt: agentPrompt(input, transcript, offered), jsonSchema: agentStepJsonSchema }
        : { system: agentToolSystem, prompt: agentPrompt(input, [], undefined), tools: offered.map(toolSpec), turns: turnsOf(transcript) };
      const said = await callModel({ key: ModelKey.step(input.task.id), tier: input.task.tier ?? 'medium', ...request }, input.script, input.reservedUsd, spent);
      const step = scripted ? readScriptedStep(said.text) : readNativeStep(said);
      const own: AgentMessage[] = step.toolCalls ? [{ role: 'assistant', step: input.step, toolCalls: step.toolCalls }] : [];
      const head = await appendTranscript(input.transcript, [...input.newMessages, ...own], deps.blobs);
      if (isBlobRef(head)) transcripts.set(head.$keelBlob, [...written, ...own]);
      const answer = step.toolCalls ? {} : { answer: await offload(step.answer) };
      return {
        ...(step.toolCalls ? { toolCalls: step.toolCalls } : {}),
        ...answer,
        transcript: head,
        call: spent.call!,
        attempt: Context.current().info.attempt,
        ...(step.toolCalls && spent.span ? { span: spent.span } : {}),
      };
    });
  }

  async function callTool(input: ToolCallInput): Promise<ToolCallOutput> {
    return atBoundary(async () => {
      const context = Context.current();
      const attempt = context.info.attempt;
      try {
        if (input.toolScript) {
          const script = input.toolScript;
          const result = await inToolSpan(input.tool, input.taskId, true, () => scriptedToolOutcome(script, attempt, context.cancellationSignal), input.parentSpan);
          return { ok: true, result: await offload(result), attempt };
        }
        const tool = deps.tools.get(input.tool);
        if (!tool) return { ok: false, error: `this worker has no tool "${input.tool}"`, attempt };
        const parsed = tool.input.safeParse(input.input);
        if (!parsed.success) return { ok: false, error: `input for tool "${input.tool}" is not valid: ${describeIssues(parsed.error).join('; ')}`, attempt };
        const result = await inToolSpan(
          input.tool,
          input.taskId,
          false,
          () => tool.run(parsed.data, { workflowId: context.info.workflowExecution?.workflowId ?? '', taskId: input.taskId, idempotencyKey: input.idempotencyKey, signal: context.cancellationSignal }),
          input.parentSpan,
        );
        return { ok: true, result: await offload(result), attempt };
      } catch (error) {
        // The model can correct a semantic failure; anything else takes its retry path.
        if (error instanceof KeelError && error.kind === 'semantic') return { ok: false, error: error.message, attempt };
        throw error;
      }
    });
  }

  return { agentStep, callTool };
}

/**
 * What a scripted step said (Keel's JSON step protocol): `{ "toolCalls": [...] }`, or the answer —
 * `{ "answer": ... }`, any other JSON object, or the entry's text as it is.
 */
function readScriptedStep(text: string): { toolCalls: AgentToolCall[]; answer?: undefined } | { toolCalls?: undefined; answer: unknown } {
  if (text === malformedText) throw new KeelError('malformed', 'the step is not valid JSON: answer {"toolCalls": [...]} or {"answer": ...}');
  const value = parseIfJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { answer: text };
  if ('toolCalls' in value) {
    const calls = ToolCallsSchema.safeParse((value as { toolCalls: unknown }).toolCalls);
    if (!calls.success) throw new KeelError('malformed', `the step's toolCalls are not valid: ${describeIssues(calls.error).join('; ')}`);
    return { toolCalls: calls.data };
  }
  return { answer: 'answer' in value ? (value as { answer: unknown }).answer : value };
}

/** What a model offered native tools said: its calls, or (calling none) its answer. */
function readNativeStep(said: ModelAnswer): { toolCalls: AgentToolCall[]; answer?: undefined } | { toolCalls?: undefined; answer: unknown } {
  if (said.toolCalls?.length) return { toolCalls: said.toolCalls.map(({ tool, input }) => ({ tool, input })) };
  if (said.text.trim() === '') throw new KeelError('malformed', 'the step called no tool and gave no answer: call a tool, or answer');
  return { answer: parseIfJson(said.text) };
}

const toolSpec = (tool: { name: string; description: string; inputSchema?: unknown }): ToolSpec => ({
  name: tool.name,
  description: tool.description,
  inputSchema: typeof tool.inputSchema === 'object' && tool.inputSchema !== null ? (tool.inputSchema as Record<string, unknown>) : { type: 'object' },
});

/**
 * The transcript as a provider's turns: each step's calls with ids made from the step and the call's
 * place (the same on every retry and replay), each result answering its call in that order, and the
 * loop's notes as user text.
 */
function turnsOf(transcript: AgentMessage[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  let open: { step: number; answered: number; ids: string[] } | undefined;
  for (const message of transcript) {
    if (message.role === 'assistant') {
      const ids = message.toolCalls.map((_call, index) => `call_${message.step}_${index}`);
      open = { step: message.step, answered: 0, ids };
      turns.push({ role: 'assistant', toolCalls: message.toolCalls.map((call, index) => ({ id: ids[index]!, tool: call.tool, input: call.input })) });
    } else if (message.role === 'tool' && open?.step === message.step && open.answered < open.ids.length) {
      const content = JSON.stringify(message.error !== undefined ? { error: message.error } : { result: message.result });
      turns.push({ role: 'tool', id: open.ids[open.answered++]!, content });
    } else if (message.role === 'note') {
      turns.push({ role: 'user', content: message.text });
    } else {
      turns.push({ role: 'user', content: JSON.stringify(message) });
    }
  }
  return turns;
}

/**
 * The transcripts this worker's steps last wrote, by head: the next step of a loop finds its
 * transcript here instead of reading every link of the chain again (which made a loop's reads grow
 * with the square of its steps). A step on another worker, or after a restart, reads the chain.
 */
class TranscriptCache {
  private readonly entries = new Map<string, AgentMessage[]>();
  constructor(private readonly size = 256) {}

  get(id: string): AgentMessage[] | undefined {
    return this.entries.get(id);
  }

  set(id: string, messages: AgentMessage[]): void {
    this.entries.delete(id);
    this.entries.set(id, messages);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** The transcript's messages, oldest first, by walking the chain back from its head (or as far as a head this worker knows). */
async function readTranscript(head: TranscriptHead | undefined, store: BlobStore | undefined, known: TranscriptCache): Promise<AgentMessage[]> {
  const links: AgentMessage[][] = [];
  for (let current = head; current !== undefined; ) {
    if (!isBlobRef(current)) {
      links.push(current.inline);
      break;
    }
    const cached = known.get(current.$keelBlob);
    if (cached) {
      links.push(cached);
      break;
    }
    if (!store) throw new KeelError('permanent', `the agent's transcript is in a blob store (${current.$keelBlob}), but this worker has none configured`);
    const json = await store.get(current.$keelBlob);
    if (json === undefined) throw new KeelError('permanent', `the agent's transcript link ${current.$keelBlob} is missing from the ${store.kind} blob store`);
    const link = JSON.parse(json) as { previous?: BlobRef; messages: AgentMessage[] };
    links.push(link.messages);
    current = link.previous;
  }
  return links.reverse().flat();
}

/** Adds a link with these messages; content-addressed, so a retried step writes the same link. */
async function appendTranscript(head: TranscriptHead | undefined, messages: AgentMessage[], store: BlobStore | undefined): Promise<TranscriptHead> {
  if (!store) return { inline: [...(head && !isBlobRef(head) ? head.inline : []), ...messages] };
  const json = JSON.stringify({ ...(head && isBlobRef(head) ? { previous: head } : {}), messages: head && !isBlobRef(head) ? [...head.inline, ...messages] : messages });
  const id = createHash('sha256').update(json).digest('hex');
  await store.put(id, json);
  return { $keelBlob: id, bytes: Buffer.byteLength(json), preview: `transcript link: ${messages.length} message(s)` };
}
