// Every escalation kind in one place: the decisions it offers, what each does (the text the details
// show), and the outcome a decision returns. Callers apply outcomes; nothing here changes the run.
import type { Decision, DecisionKind, RunStatus, Task } from '../shared/workflow';
import { checkAgainst } from './contracts';
import type { DecisionTaken } from './escalation';

/** What a run escalates about, with the facts its choices and outcomes depend on. */
export type Escalation =
  | { kind: 'human_review'; task: Task }
  | { kind: 'critical_verdict'; task: Task }
  | { kind: 'task_failed'; task: Task }
  | { kind: 'no_consensus'; task: Task; firstAnswer: string }
  /** `beforeStart`: the budget ran out before the task could start, not during it. */
  | { kind: 'budget_exhausted'; task: Task; beforeStart: boolean; budgetUsd: number; raiseUsd: number }
  | { kind: 'replans_exhausted'; replans: number }
  | { kind: 'planning_failed'; failure: string }
  /**
   * A call of a tool that needs a human's approval: the exact input the model or the plan chose, and
   * the tool's input JSON Schema when the worker has the tool (an edited input must fit it).
   */
  | { kind: 'tool_approval'; task: Task; tool: string; input: Record<string, unknown>; inLoop: boolean; inputSchema?: Record<string, unknown> };

/** What should happen next, as a decision says. */
export type Outcome =
  /** Take what the task produced (or, for a review, the human's approval) and go on; for a tool call, run it (with `input` when the human edited it). */
  | { type: 'accept'; input?: Record<string, unknown> }
  /** Do not make the tool call: an agent's model reads `reason` as its result; a tool task fails with it. */
  | { type: 'refuse'; reason: string }
  /** Go on without the task: it is skipped, and its dependents run without its output. */
  | { type: 'waive' }
  /** Run the task, or ask the planner, again. */
  | { type: 'retry' }
  /** Raise the budget by this much, then run the task (again). */
  | { type: 'raise_budget'; amountUsd: number }
  | { type: 'replan'; guidance?: string }
  /** Skip the task and what depends on it. */
  | { type: 'skip' }
  /** End the run. */
  | { type: 'halt'; status: Exclude<RunStatus, 'completed' | 'partial'>; reason: string };

export interface Choice {
  decision: DecisionKind;
  effect: string;
}

/** The decisions an escalation offers, in the order the details list them, each with what it does. */
export function choicesFor(escalation: Escalation): Choice[] {
  const replan: Choice = { decision: 'replan', effect: 'plan the remaining work again (add guidance)' };
  const reject: Choice = { decision: 'reject', effect: 'end the run as rejected' };
  switch (escalation.kind) {
    case 'human_review': {
      const { task } = escalation;
      return [{ decision: 'approve', effect: `approve ${task.id}; the run continues` }, reject, replan, ...skipIfOptional(task)];
    }
    case 'critical_verdict': {
      const { task } = escalation;
      return [
        { decision: 'approve', effect: 'accept the result as it is and continue' },
        { decision: 'retry', effect: `run ${task.id} again` },
        replan,
        ...skipIfOptional(task),
        reject,
      ];
    }
    case 'task_failed': {
      const { task } = escalation;
      return [{ decision: 'approve', effect: `go on without ${task.id}: its dependents run without its output` }, { decision: 'retry', effect: `run ${task.id} again` }, replan, reject];
    }
    case 'no_consensus':
      return [
        { decision: 'approve', effect: `accept the first model's answer (${escalation.firstAnswer})` },
        { decision: 'retry', effect: 'ask the models again' },
        replan,
        reject,
      ];
    case 'budget_exhausted': {
      const { task, raiseUsd } = escalation;
      const raise = `raise the budget by $${raiseUsd} (or by "budgetUsd" in the decision)`;
      if (escalation.beforeStart) return [{ decision: 'approve', effect: `${raise} and go on` }, { decision: 'reject', effect: 'end the run as budget_exhausted' }];
      return [{ decision: 'approve', effect: `${raise} and run ${task.id} again` }, { decision: 'retry', effect: `run ${task.id} again` }, replan, { decision: 'reject', effect: 'end the run as budget_exhausted' }];
    }
    case 'replans_exhausted':
      return [{ decision: 'approve', effect: 'allow one more replan' }, { decision: 'replan', effect: 'allow one more replan, with your guidance' }, reject];
    case 'tool_approval': {
      const { task, tool, inLoop } = escalation;
      return [
        { decision: 'approve', effect: `run ${tool} with this input, or with yours in "input" (an object its schema accepts)` },
        {
          decision: 'reject',
          effect: inLoop ? `do not run it: the agent reads your note as the call's result and goes on` : `do not run it: task ${task.id} fails with your note, and the run recovers as from a semantic failure`,
        },
      ];
    }
    case 'planning_failed':
      return [
        { decision: 'retry', effect: 'ask the planner again, once what failed is fixed (a model provider on the worker, the provider back up)' },
        { decision: 'replan', effect: 'ask the planner again, with your guidance' },
        { decision: 'reject', effect: 'end the run as failed' },
      ];
    default:
      return unreachable(escalation);
  }
}

/** An approval: under a quorum it is counted, and the escalation waits for more approvers. */
export function isApproval(decision: DecisionKind): boolean {
  return decision === 'approve';
}

/** Rejecting ends or refuses, so even the run's starter may do it (approvals.forbidSelfApproval). */
export function isRejection(decision: DecisionKind): boolean {
  return decision === 'reject';
}

/** What a decision means for this escalation. The desk only passes decisions that choicesFor offers. */
export function outcomeOf(escalation: Escalation, decision: DecisionTaken): Outcome {
  switch (decision.decision) {
    case 'approve':
      return approval(escalation, decision);
    case 'retry':
      return { type: 'retry' };
    case 'replan':
      return { type: 'replan', ...(decision.guidance ? { guidance: decision.guidance } : {}) };
    case 'skip':
      return { type: 'skip' };
    case 'reject':
      return rejection(escalation, decision);
    default:
      return unreachable(decision.decision);
  }
}

function approval(escalation: Escalation, decision: DecisionTaken): Outcome {
  switch (escalation.kind) {
    case 'human_review':
    case 'critical_verdict':
    case 'no_consensus':
      return { type: 'accept' };
    case 'task_failed':
      return { type: 'waive' };
    case 'budget_exhausted':
      return { type: 'raise_budget', amountUsd: decision.budgetUsd ?? escalation.raiseUsd };
    case 'replans_exhausted':
      return { type: 'replan', ...(decision.guidance ? { guidance: decision.guidance } : {}) };
    case 'planning_failed':
      // Not offered (choicesFor): the desk refuses it before it gets here.
      return { type: 'retry' };
    case 'tool_approval':
      return { type: 'accept', ...(decision.input ? { input: decision.input } : {}) };
    default:
      return unreachable(escalation);
  }
}

function rejection(escalation: Escalation, decision: DecisionTaken): Outcome {
  const note = decision.note ? `: ${decision.note}` : '';
  switch (escalation.kind) {
    case 'human_review':
    case 'critical_verdict':
    case 'task_failed':
    case 'no_consensus':
      return { type: 'halt', status: 'rejected', reason: `${decision.by} rejected the run at task ${escalation.task.id}${note}` };
    case 'budget_exhausted':
      return {
        type: 'halt',
        status: 'budget_exhausted',
        reason: escalation.beforeStart
          ? `the budget of $${escalation.budgetUsd} was spent before task ${escalation.task.id}; ${decision.by} did not raise it`
          : `budget exhausted at task ${escalation.task.id}; ${decision.by} rejected raising it`,
      };
    case 'replans_exhausted':
      return { type: 'halt', status: 'rejected', reason: `${decision.by} rejected the run after ${escalation.replans} replan(s)${note}` };
    case 'planning_failed':
      return { type: 'halt', status: 'failed', reason: `${escalation.failure}; ${decision.by} ended the run${note}` };
    case 'tool_approval':
      return { type: 'refuse', reason: `${decision.by} did not approve this call of ${escalation.tool}${note}` };
    default:
      return unreachable(escalation);
  }
}

/**
 * What is wrong with a decision's own values for this escalation, or undefined: an edited tool
 * input that the tool's schema refuses is refused before the run takes it.
 */
export function decisionValueProblem(escalation: Escalation, decision: Decision): string | undefined {
  if (escalation.kind !== 'tool_approval' || decision.input === undefined || escalation.inputSchema === undefined) return undefined;
  const checked = checkAgainst(escalation.inputSchema, decision.input);
  return checked.success ? undefined : `"input" does not fit the input schema of ${escalation.tool}: ${checked.issues.join('; ')}`;
}

/** What each `keel <decision> ID` needs after the id, for the details' terminal line. */
export const cliArguments: Record<DecisionKind, string> = { approve: '', reject: ' --reason "..."', replan: ' --guidance "..."', retry: '', skip: '' };

/** The JSON the details offer to paste into the Web UI's "Send a Signal" for a decision. */
export function exampleDecision(decision: DecisionKind, taskId: string | undefined): Record<string, string> {
  const by = { by: 'your-name' };
  const task: Record<string, string> = taskId ? { taskId } : {};
  switch (decision) {
    case 'reject':
      return { decision, ...task, note: 'why', ...by };
    case 'replan':
      return { decision, ...task, guidance: 'what to do differently', ...by };
    default:
      return { decision, ...task, note: 'optional', ...by };
  }
}

function skipIfOptional(task: Task): Choice[] {
  return task.critical ? [] : [{ decision: 'skip', effect: `skip ${task.id} and what depends on it` }];
}

/** The compiler's check that every kind is handled: a new kind makes each switch above an error. */
function unreachable(value: never): never {
  throw new TypeError(`unhandled: ${JSON.stringify(value)}`);
}
