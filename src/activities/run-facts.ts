// Facts about a run that only its history has: who sent a signal.
import { Context } from '@temporalio/activity';

export async function signalSender(input: { workflowId: string; signalName: string }): Promise<string | undefined> {
  const history = await Context.current().client.workflow.getHandle(input.workflowId).fetchHistory();
  const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === input.signalName);
  return signals.at(-1)?.workflowExecutionSignaledEventAttributes?.identity ?? undefined;
}
