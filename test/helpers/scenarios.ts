import type { AgentRequestInput, ScriptedModelEntry, ScriptedToolEntry, TaskDraft } from '../../src/shared';

/** A scripted request: a plan, optional task/evaluate entries and tool outcomes, and a synthesis. */
export function scriptedRequest(options: {
  goal?: string;
  tasks: TaskDraft[];
  tools?: Record<string, ScriptedToolEntry[]>;
  model?: Record<string, ScriptedModelEntry[]>;
  plans?: ScriptedModelEntry[];
  allowedTools?: string[];
  budgetUsd?: number;
  idempotencyKey?: string;
  maxReplans?: number;
  /** Default: no one decides, so escalations end after 1.5 s with the default action (reject). */
  escalation?: { timeoutMs?: number; defaultAction?: 'approve' | 'reject' | 'skip' };
}): AgentRequestInput {
  const toolNames = [...new Set(options.tasks.flatMap((task) => [task.tool, task.fallbackTool].filter((name): name is string => name !== undefined)))];
  return {
    goal: options.goal ?? 'test goal',
    tools: options.allowedTools ?? toolNames,
    ...(options.budgetUsd ? { budgetUsd: options.budgetUsd } : {}),
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.maxReplans !== undefined ? { maxReplans: options.maxReplans } : {}),
    escalation: { timeoutMs: 1_500, defaultAction: 'reject', ...options.escalation },
    scenario: {
      model: {
        plan: options.plans ?? [{ tasks: options.tasks }],
        synthesize: [{ text: 'final answer' }],
        ...options.model,
      },
      tools: options.tools ?? {},
    },
  };
}

export function toolTask(id: string, tool: string, dependsOn: string[] = [], extra: Partial<TaskDraft> = {}): TaskDraft {
  return { id, kind: 'tool', tool, description: `${id} runs ${tool}`, dependsOn, ...extra };
}

export function llmTask(id: string, dependsOn: string[] = [], extra: Partial<TaskDraft> = {}): TaskDraft {
  return { id, kind: 'llm', description: `${id} thinks`, dependsOn, ...extra };
}

/** The answer streamedReply's model writes. */
export const streamedAnswer = 'Dear Ana, your refund of eighteen dollars for the broken mug is on its way and should reach your card within five days. Thank you for your patience.';

/** A pipeline of one model task whose (scripted) model writes streamedAnswer over `delayMs`, word by word. */
export function streamedReply(delayMs: number, timeoutMs?: number) {
  return {
    goal: 'write to Ana',
    tools: [],
    plan: { tasks: [{ id: 'reply', kind: 'llm' as const, description: 'write the reply', ...(timeoutMs ? { timeoutMs } : {}) }], outputFrom: 'reply' },
    scenario: { model: { 'task:reply': [{ text: streamedAnswer, delayMs }] }, tools: {} },
  };
}
