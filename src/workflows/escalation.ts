// Waiting for a human: KeelStatus, current details for the Web UI, the decide signal and update.
import { ApplicationFailure, condition, log, patched, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  type ApprovalTrust,
  type ApproverPolicy,
  type Decision,
  type DecisionKind,
  type DecisionReceipt,
  type DoorSignature,
  type PendingEscalation,
  type VerifiedIdentity,
  escalationTimerPrefix,
  decideSignal,
  decideUpdate,
  pendingQuery,
  stableJson,
} from '../shared/workflow';
import { historyActivities, workerFactsActivity } from './activities';
import { approverLists, policyProblem, quorumFor, requiresVerified, senderOf, starterOf, verifiedDoors, type PolicySubject, type Sender } from './approvals';
import { checkDecision } from './contracts';
import { choicesFor, cliArguments, decisionValueProblem, exampleDecision, isApproval, outcomeOf, type Escalation, type Outcome } from './decisions';
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

/** Runs started before verified approvals read no keys and apply no policy. */
export const verifiedDecisionsPatch = 'keel-verified-decisions';
/** Runs from before a timeout under an approver policy rejected instead of approving. */
export const policyHoldsAtTimeoutPatch = 'keel-policy-holds-at-timeout';

/** A decision the desk took in, with who sent it and through which door. */
interface Received {
  decision: Decision;
  sender: Sender;
  door: 'signal' | 'update';
}

type Pending = PendingEscalation & { attempted: string[]; decision?: Received; escalation?: Escalation; approvals?: Received[] };

/** A decision and what it means for the escalation it answered. */
export interface Decided {
  decision: DecisionTaken;
  outcome: Outcome;
}

export class EscalationDesk {
  private pending?: Pending;
  private nextId = 1;
  /** Read at the first escalation: the keys the workers trust, and the policies (the worker's, the request's). */
  private trust?: ApprovalTrust;
  private policies: ApproverPolicy[] = [];
  private starter?: VerifiedIdentity | string;
  /** What the update's validator found, for its handler. */
  private readonly validated = new WeakMap<object, Received>();

  constructor(
    private readonly record: RunRecord,
    private readonly options: { timeoutMs: number; defaultAction: DecisionKind },
    private readonly approvals: { policy?: ApproverPolicy; startedBy?: DoorSignature } = {},
  ) {}

  install(): void {
    setHandler(pendingQuery, () => (this.pending ? withoutInternals(this.pending) : null), { description: 'The escalation this run waits on, or null.' });
    setHandler(
      decideSignal,
      (payload: unknown) => {
        const checked = this.check(payload, 'signal');
        if (typeof checked === 'string') {
          this.record.ignoreSignal(payload, checked);
          log.warn('ignored a decide signal', { reason: checked.slice(0, 500) });
          return;
        }
        this.take(checked);
      },
      { description: 'Decide a pending escalation: {"decision": "approve|reject|replan|retry|skip", "note"?, "guidance"?, "by"?, "taskId"?}' },
    );
    setHandler(
      decideUpdate,
      (payload) => {
        // The validator checked this payload moments ago, in the same workflow task (its signature
        // included); on replay no validator runs, so it is checked here.
        const checked = this.validated.get(payload as object) ?? this.check(payload, 'update');
        if (typeof checked === 'string') throw ApplicationFailure.create({ type: 'invalid_decision', message: checked, nonRetryable: true });
        return this.take(checked);
      },
      {
        validator: (payload: unknown) => {
          const checked = this.check(payload, 'update');
          if (typeof checked === 'string') throw ApplicationFailure.create({ type: 'invalid_decision', message: checked, nonRetryable: true });
          if (typeof payload === 'object' && payload !== null) this.validated.set(payload, checked);
        },
        description: 'Decide a pending escalation, validated: the caller gets an error for a decision this run cannot take.',
      },
    );
  }

  /** The decision with its sender, or why it cannot be taken now (its shape, the pending escalation, its signature, the policy). */
  private check(payload: unknown, door: Received['door']): Received | string {
    const problem = this.problemWith(payload);
    if (problem) return problem;
    const pending = this.pending!;
    const decision = payload as Decision;
    const sender = senderOf(decision, { workflowId: workflowInfo().workflowId, escalationId: pending.id, since: pending.since }, this.trust ?? { keys: [] });
    if (typeof sender === 'string') return sender;
    const refused = policyProblem(this.policies, subjectOf(pending), decision.decision, sender, this.starter);
    if (refused) return refused;
    const earlier = pending.approvals ?? [];
    if (isApproval(decision.decision) && sender.verified && earlier.some((approval) => approval.sender.verified && approval.sender.identity.by === sender.identity.by)) {
      return `${sender.identity.by} has already approved this escalation; it needs ${quorumFor(this.policies, subjectOf(pending))} distinct approvers (so far: ${approverNames(earlier).join(', ')})`;
    }
    if (isApproval(decision.decision) && earlier.length > 0 && approvalTerms(earlier[0]!.decision) !== approvalTerms(decision)) {
      return `approve on the same terms as the earlier approval (${approvalTerms(earlier[0]!.decision)}), or reject: a quorum approves one input and one budget`;
    }
    return { decision, sender, door };
  }

  /** Takes a checked decision: an approval short of its quorum is counted, anything else decides. */
  private take(received: Received): DecisionReceipt {
    const pending = this.pending!;
    const who = senderName(received);
    const receipt: DecisionReceipt = { accepted: true, escalationId: pending.id, decision: received.decision.decision, ...(who ? { by: who } : {}), verified: received.sender.verified };
    const needed = quorumFor(this.policies, subjectOf(pending));
    if (isApproval(received.decision.decision) && needed > 1) {
      pending.approvals = [...(pending.approvals ?? []), received];
      pending.quorum = { needed, approvedBy: approverNames(pending.approvals) };
      if (pending.approvals.length < needed) {
        setCurrentDetails(renderDetails(pending, this.record, workflowInfo().workflowId));
        return { ...receipt, quorum: pending.quorum };
      }
      pending.decision = received;
      return { ...receipt, quorum: pending.quorum };
    }
    pending.decision = received;
    return receipt;
  }

  /** The keys and policies, read once, before the first escalation waits. Runs from before verified approvals have none. */
  private async readTrust(): Promise<void> {
    if (this.trust) return;
    this.trust = patched(verifiedDecisionsPatch) ? await workerFactsActivity().approvalTrust() : { keys: [] };
    this.policies = [this.trust.policy, this.approvals.policy].filter((policy): policy is ApproverPolicy => policy !== undefined);
    this.starter = starterOf(this.approvals.startedBy, workflowInfo().workflowId, this.trust);
  }

  /** What the policies ask of this escalation, for the pending query and the details. */
  private describePolicy(pending: Pending): void {
    const subject = subjectOf(pending);
    const lists = approverLists(this.policies, subject);
    const needed = quorumFor(this.policies, subject);
    if (lists.length > 0) pending.approvers = lists;
    if (needed > 1) pending.quorum = { needed, approvedBy: [] };
    if (requiresVerified(this.policies, subject)) pending.verifiedOnly = true;
  }

  /** Why a decision cannot be taken now, or undefined if it can. */
  problemWith(payload: unknown): string | undefined {
    const parsed = checkDecision(payload);
    if (!parsed.success) return `invalid decision: ${parsed.issues.join('; ')}`;
    const pending = this.pending;
    if (pending?.decision) {
      const by = senderName(pending.decision);
      return `this run's escalation was just decided (${pending.decision.decision.decision}${by ? ` by ${by}` : ''}): nothing is left to decide`;
    }
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
  private async whoSignalled(door: Received['door']): Promise<string> {
    if (door !== 'signal') return 'unknown (no "by" in the decision)';
    const identity = await historyActivities()
      .signalSender({ workflowId: workflowInfo().workflowId, signalName: decideSignal.name })
      .catch(() => undefined);
    return identity ? `${identity} (signal)` : 'unknown (no "by" in the signal)';
  }

  /** What a timeout decides, and why when it is not the request's escalation.defaultAction. */
  private timeoutDefault(escalation: Escalation, choices: ReturnType<typeof choicesFor>): { defaultAction: DecisionKind; defaultNote?: string } {
    const asked = this.options.defaultAction;
    if (!choices.some((choice) => choice.decision === asked)) {
      const critical = asked === 'skip' && 'task' in escalation && escalation.task.critical;
      return { defaultAction: 'reject', defaultNote: `the request's escalation.defaultAction "${asked}" is not a choice here${critical ? ' (a critical task cannot be skipped)' : ''}, so it is "reject"` };
    }
    // An approval the policies give only to verified approvers cannot come from a timeout.
    if (isApproval(asked) && requiresVerified(this.policies, subjectOf({ kind: escalation.kind, escalation })) && patched(policyHoldsAtTimeoutPatch)) {
      return { defaultAction: 'reject', defaultNote: `the approvals policy lets only verified approvers approve this, so a timeout rejects it instead of taking the request's escalation.defaultAction "approve"` };
    }
    return { defaultAction: asked };
  }

  /** Waits for a human decision (one escalation at a time); on timeout takes the default action. */
  async escalate(request: EscalationRequest): Promise<Decided> {
    await condition(() => this.pending === undefined);
    const { escalation } = request;
    await this.readTrust();
    const kind = escalation.kind;
    const taskId = 'task' in escalation ? escalation.task.id : undefined;
    const choices = choicesFor(escalation);
    const now = Date.now();
    const { defaultAction, defaultNote } = this.timeoutDefault(escalation, choices);
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
    this.describePolicy(this.pending);
    this.record.stream.emit({ type: 'escalation.waiting', escalationId: this.pending.id, kind, ...(taskId ? { taskId } : {}), reason: request.reason });
    this.record.beginWaiting();
    recordEscalation('started', kind);
    setCurrentDetails(renderDetails(this.pending, this.record, workflowInfo().workflowId));
    try {
      const decided = await condition(() => this.pending?.decision !== undefined, this.options.timeoutMs, { summary: `${escalationTimerPrefix}${kind}` });
      const received = decided ? this.pending.decision! : undefined;
      const approvals = this.pending.approvals ?? [];
      const decision: DecisionTaken = received
        ? { ...withoutSignature(received.decision), by: senderName(received) ?? (await this.whoSignalled(received.door)), timedOut: false }
        : {
            decision: defaultAction,
            by: 'timeout',
            note: `no decision within ${formatDuration(this.options.timeoutMs)}: took the default action${defaultNote ? ` (${defaultNote})` : ''}${approvals.length > 0 ? `; approved by ${approverNames(approvals).join(', ')}, short of the ${this.pending.quorum?.needed} needed` : ''}`,
            timedOut: true,
          };
      const door = received ? (received.sender.verified ? received.sender.identity.door : received.door) : undefined;
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
        ...(door ? { door } : {}),
        ...(received?.sender.verified ? { verified: true } : {}),
        ...(received && approvals.length > 1 ? { approvedBy: approverNames(approvals) } : {}),
      });
      this.record.stream.emit({ type: 'escalation.decided', escalationId: this.pending.id, decision: decision.decision, by: decision.by });
      return { decision, outcome: outcomeOf(escalation, decision) };
    } finally {
      recordEscalation('decided', kind);
      this.pending = undefined;
      this.record.endWaiting();
      setCurrentDetails('');
    }
  }
}

function withoutInternals(pending: Pending): PendingEscalation {
  const { attempted: _attempted, decision: _decision, approvals: _approvals, escalation: _escalation, ...visible } = pending;
  return visible;
}

function subjectOf(pending: Pick<Pending, 'kind' | 'escalation'>): PolicySubject {
  return { kind: pending.kind, ...(pending.escalation?.kind === 'tool_approval' ? { tool: pending.escalation.tool } : {}) };
}

/** Who a decision is from: the verified identity, else the `by` it claims. */
function senderName(received: Received): string | undefined {
  return received.sender.verified ? received.sender.identity.by : received.sender.by;
}

function approverNames(approvals: readonly Received[]): string[] {
  return approvals.map((approval) => senderName(approval) ?? 'unknown');
}

/** What an approval agrees to: the edited input and the budget raise, if any. */
function approvalTerms(decision: Decision): string {
  return stableJson({ input: decision.input ?? null, budgetUsd: decision.budgetUsd ?? null });
}

function withoutSignature(decision: Decision): Decision {
  const { signature: _signature, ...rest } = decision;
  return rest;
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
    ...whoMayDecide(pending),
    '### How to answer',
    ...(pending.verifiedOnly
      ? [`Only verified decisions count here: this Web UI's **Send a Signal** carries no identity and is refused. To ${verifiedDoors.replace('decide through', 'decide, use')}.`]
      : [
          'In this Web UI: **More Actions → Send a Signal**, signal name **`decide`**, and paste one of:',
          '',
          // Indented as the Web UI's editor formats it: pasted on one line, the editor reflows it on blur
          // and the dialog moves under the pointer, so the first click on Submit is lost.
          ...pending.choices.flatMap((choice) => ['```json', JSON.stringify(exampleDecision(choice.decision, pending.taskId), null, 2), '```']),
        ]),
    '',
    `From a terminal: ${pending.choices.map((choice) => `\`keel ${choice.decision} ${workflowId}${cliArguments[choice.decision]}\``).join(', ')}.`,
    '',
    `If no one decides by ${pending.timeoutAt}, the run takes \`${pending.defaultAction}\`${pending.defaultNote ? ` (${pending.defaultNote})` : ''}.`,
  ];
  // "USD 0.50", not "$0.50": the Web UI's Markdown reads a pair of dollar signs as math.
  const markdown = lines.join('\n').replace(/\$(\d)/g, 'USD $1');
  return markdown.length <= 20_000 ? markdown : `${markdown.slice(0, 19_950)}\n\n… (truncated)`;
}

/** The policy's part of the details: who may decide, and a quorum's approvals so far. */
function whoMayDecide(pending: PendingEscalation): string[] {
  if (!pending.approvers && !pending.quorum && !pending.verifiedOnly) return [];
  return [
    '### Who may decide',
    ...(pending.approvers ? pending.approvers.map((list) => `- only: ${list.map((entry) => `\`${entry}\``).join(', ')}`) : []),
    ...(pending.quorum
      ? [`- approving needs ${pending.quorum.needed} distinct verified approvers; so far ${pending.quorum.approvedBy.length > 0 ? pending.quorum.approvedBy.map((by) => `\`${by}\``).join(', ') : 'none'}`]
      : []),
    ...(pending.verifiedOnly ? ['- only signed decisions count'] : []),
    '',
  ];
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
