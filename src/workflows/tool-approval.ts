// A tool call that needs a human's approval first: the tool asks for it (needsApproval), or the
// request does (approvals.tools). The run waits with the exact input; the human approves it as it
// is, approves an edited input, or refuses the call.
import { patched } from '@temporalio/workflow';
import type { Task } from '../shared/workflow';
import { workerFactsActivity } from './activities';
import type { RunContext } from './run-context';

/** Runs recorded before an approval asked the worker for the tool's input schema (to check an edited input). */
export const approvalChecksEditsPatch = 'keel-approval-checks-edits';

export function needsApproval(context: RunContext, tool: string): boolean {
  return context.record.approvalTools.includes(tool) || (context.request.approvals?.tools ?? []).includes(tool);
}

export type Approval = { approved: true; input: Record<string, unknown> } | { approved: false; reason: string };

/** Waits for a human to approve one call. `inLoop`: an agent's call, whose model reads a refusal. */
export async function approveCall(context: RunContext, task: Task, tool: string, input: Record<string, unknown>, inLoop: boolean): Promise<Approval> {
  // A tool only the scenario scripts has no schema here; its edited input goes to it unchecked.
  const inputSchema = patched(approvalChecksEditsPatch) ? await workerFactsActivity().toolInputSchema({ tool }) : undefined;
  const { outcome } = await context.desk.escalate({
    escalation: { kind: 'tool_approval', task, tool, input, inLoop, ...(inputSchema ? { inputSchema } : {}) },
    reason: `task ${task.id} wants to call ${tool}, which needs a human's approval`,
    attempted: [`the proposed input: ${JSON.stringify(input)}`],
  });
  if (outcome.type === 'accept') return { approved: true, input: outcome.input ?? input };
  return { approved: false, reason: outcome.type === 'refuse' ? outcome.reason : `the call of ${tool} was not approved` };
}
