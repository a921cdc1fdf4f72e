// Waiting for a human: KeelStatus, current details for the Web UI, the decide signal and update.
import { ApplicationFailure, condition, log, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { type Decision, type DecisionKind, type PendingEscalation, escalationTimerPrefix, decideSignal, decideUpdate, pendingQuery } from '../shared/workflow';
import { historyActivities } from './activities';
import { checkDecision } from './contracts';
import { choicesFor, cliArguments, decisionValueProblem, exampleDecision, outcomeOf, type Escalation, type Outcome } from './decisions';
import { recordEscalation } from './metrics';
import type { RunRecord } from './run-record';

export interface EscalationRequest {
  escalation: Escalation;
  reason: string;
  /** Sentences saying what was tried before stopping. */
  attempted: string[];
}

export interface DecisionTaken extends Decision {
  by: string;
  timedOut: boolean;
}

/** A decision and what it means for the escalation it answered. */
export interface Decided {
  decision: DecisionTaken;
  outcome: Outcome;
}

export class EscalationDesk {
  private pending?: PendingEscalation & { attempted: string[]; decision?: Decision; viaSignal?: boolean; escalation?: Escalation };
  private nextId = 1;

  constructor(
    private readonly record: RunRecord,
    private readonly options: { timeoutMs: number; defaultAction: DecisionKind },
  ) {}

  install(): void {
    setHandler(pendingQuery, () => (this.pending ? withoutInternals(this.pending) : null), { description: 'The escalation this run waits on, or null.' });
    setHandler(
      decideSignal,
      (payload: unknown) => {
        const problem = this.problemWith(payload);
        if (problem) {
          this.record.ignoreSignal(payload, problem);
          log.warn('ignored a decide signal', { reason: problem.slice(0, 500) });
          return;
        }
        this.pending!.decision = payload as Decision;
        this.pending!.viaSignal = true;
      },
      { description: 'Decide a pending escalation: {"decision": "approve|reject|replan|retry|skip", "note"?, "guidance"?, "by"?, "taskId"?}' },
    );
    setHandler(
      decideUpdate,
      (decision) => {
        this.pending!.decision = decision;
        return { accepted: true, escalationId: this.pending!.id, decision: decision.decision };
      },
      {
        validator: (payload: unknown) => {
          const problem = this.problemWith(payload);
          if (problem) throw ApplicationFailure.create({ type: 'invalid_decision', message: problem, nonRetryable: true });
        },
        description: 'Decide a pending escalation, validated: the caller gets an error for a decision this run cannot take.',
      },
    );
  }

  /** Why a decision cannot be taken now, or undefined if it can. */
  problemWith(payload: unknown): string | undefined {
    const parsed = checkDecision(payload);
    if (!parsed.success) return `invalid decision: ${parsed.issues.join('; ')}`;
    const pending = this.pending;
    if (pending?.decision) return `this run's escalation was just decided (${pending.decision.decision}${pending.decision.by ? ` by ${pending.decision.by}` : ''}): nothing is left to decide`;
    if (!pending) {
      const last = this.record.escalations.at(-1);
      const earlier = last ? `; the last one${last.taskId ? ` (task ${last.taskId})` : ''} was decided: ${last.decision} by ${last.decidedBy} at ${last.decidedAt}` : '';
      return `this run has no pending escalation to decide${earlier}`;
    }
    const { decision, taskId } = parsed.data;
    if (taskId !== undefined && taskId !== pending.taskId) {
      return `the pending escalation is about ${pending.taskId ? `task "${pending.taskId}"` : 'the run, not a task'}, not task "${taskId}"`;
    }
    if (!pending.choices.some((choice) => choice.decision === decision)) {
      return `"${decision}" is not possible here; choose one of: ${pending.choices.map((choice) => choice.decision).join(', ')}`;
    }
    if (parsed.data.budgetUsd !== undefined && !(pending.kind === 'budget_exhausted' && decision === 'approve')) {
      return '"budgetUsd" only goes with "approve" on a budget_exhausted escalation; leave it out';
    }
    if (parsed.data.input !== undefined && !(pending.kind === 'tool_approval' && decision === 'approve')) {
      return '"input" only goes with "approve" on a tool_approval escalation (the edited tool input); leave it out';
    }
    return pending.escalation ? decisionValueProblem(pending.escalation, parsed.data) : undefined;
  }

  /** A signal without "by" (e.g. from the Web UI) is credited to the client identity history recorded. */
  private async whoSignalled(): Promise<string> {
    if (!this.pending?.viaSignal) return 'unknown (no "by" in the decision)';
    const identity = await historyActivities()
      .signalSender({ workflowId: workflowInfo().workflowId, signalName: decideSignal.name })
      .catch(() => undefined);
    return identity ? `${identity} (signal)` : 'unknown (no "by" in the signal)';
  }

  /** Waits for a human decision (one escalation at a time); on timeout takes the default action. */
  async escalate(request: EscalationRequest): Promise<Decided> {
    await condition(() => this.pending === undefined);
    const { escalation } = request;
    const kind = escalation.kind;
    const taskId = 'task' in escalation ? escalation.task.id : undefined;
    const choices = choicesFor(escalation);
    const now = Date.now();
    const defaultAction = choices.some((choice) => choice.decision === this.options.defaultAction) ? this.options.defaultAction : 'reject';
    const defaultNote =
      defaultAction === this.options.defaultAction
        ? undefined
        : `the request's escalation.defaultAction "${this.options.defaultAction}" is not a choice here${this.options.defaultAction === 'skip' && 'task' in escalation && escalation.task.critical ? ' (a critical task cannot be skipped)' : ''}, so it is "reject"`;
    this.pending = {
      id: this.nextId++,
      kind,
      reason: request.reason,
      ...(taskId ? { taskId } : {}),
      choices,
      attempted: request.attempted,
      since: new Date(now).toISOString(),
      timeoutAt: new Date(now + this.options.timeoutMs).toISOString(),
      defaultAction,
      ...(defaultNote ? { defaultNote } : {}),
      escalation,
    };
    this.record.beginWaiting();
    recordEscalation('started', kind);
    setCurrentDetails(renderDetails(this.pending, this.record, workflowInfo().workflowId));
    try {
      const decided = await condition(() => this.pending?.decision !== undefined, this.options.timeoutMs, { summary: `${escalationTimerPrefix}${kind}` });
      const decision: DecisionTaken = decided
        ? { ...this.pending.decision!, by: this.pending.decision!.by ?? (await this.whoSignalled()), timedOut: false }
        : { decision: defaultAction, by: 'timeout', note: `no decision within ${formatDuration(this.options.timeoutMs)}: took the default action${defaultNote ? ` (${defaultNote})` : ''}`, timedOut: true };
      this.record.escalations.push({
        reason: request.reason,
        kind,
        ...(taskId ? { taskId } : {}),
        decision: decision.decision,
        decidedBy: decision.by,
        ...(decision.note ? { note: decision.note } : {}),
        ...(decision.guidance ? { guidance: decision.guidance } : {}),
        decidedAt: new Date(Date.now()).toISOString(),
        ...(decision.budgetUsd !== undefined ? { budgetUsd: decision.budgetUsd } : {}),
        ...(decision.timedOut ? { timedOut: true } : {}),
      });
      return { decision, outcome: outcomeOf(escalation, decision) };
    } finally {
      recordEscalation('decided', kind);
      this.pending = undefined;
      this.record.endWaiting();
      setCurrentDetails('');
    }
  }
}

function withoutInternals(pending: PendingEscalation & { attempted: string[]; decision?: Decision; viaSignal?: boolean; escalation?: Escalation }): PendingEscalation {
  const { attempted: _attempted, decision: _decision, viaSignal: _viaSignal, escalation: _escalation, ...visible } = pending;
  return visible;
}

/** The Markdown the Web UI shows while the run waits: what, why, the choices, and what to paste. */
export function renderDetails(pending: PendingEscalation & { attempted: string[] }, record: RunRecord, workflowId: string): string {
  const task = pending.taskId ? record.tasks.find(pending.taskId)?.task : undefined;
  const lines = [
    `## Waiting for a human decision`,
    '',
    `**Why the run stopped:** ${pending.reason}`,
    '',
    ...(task
      ? [`**Task:** \`${task.id}\` · ${task.kind === 'tool' ? `tool \`${task.tool}\`` : task.kind} · ${task.critical ? 'critical' : 'non-critical'} — ${task.description}`, '']
      : []),
    `**Goal:** ${record.goal}`,
    '',
    '### What was attempted',
    ...(pending.attempted.length > 0 ? pending.attempted.map((line) => `- ${line}`) : ['- nothing yet']),
    `- spent $${record.ledger.spentUsd.toFixed(4)} of $${record.ledger.budgetUsd.toFixed(2)}; ${record.plans.length} plan(s), ${record.replans} replan(s)`,
    '',
    '### Decide',
    '| decision | what happens |',
    '|---|---|',
    ...pending.choices.map((choice) => `| \`${choice.decision}\` | ${choice.effect} |`),
    '',
    '### How to answer',
    'In this Web UI: **More Actions → Send a Signal**, signal name **`decide`**, and paste one of:',
    '',
    // Indented as the Web UI's editor formats it: pasted on one line, the editor reflows it on blur
    // and the dialog moves under the pointer, so the first click on Submit is lost.
    ...pending.choices.flatMap((choice) => ['```json', JSON.stringify(exampleDecision(choice.decision, pending.taskId), null, 2), '```']),
    '',
    `From a terminal: ${pending.choices.map((choice) => `\`keel ${choice.decision} ${workflowId}${cliArguments[choice.decision]}\``).join(', ')}.`,
    '',
    `If no one decides by ${pending.timeoutAt}, the run takes \`${pending.defaultAction}\`${pending.defaultNote ? ` (${pending.defaultNote})` : ''}.`,
  ];
  // "USD 0.50", not "$0.50": the Web UI's Markdown reads a pair of dollar signs as math.
  const markdown = lines.join('\n').replace(/\$(\d)/g, 'USD $1');
  return markdown.length <= 20_000 ? markdown : `${markdown.slice(0, 19_950)}\n\n… (truncated)`;
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
