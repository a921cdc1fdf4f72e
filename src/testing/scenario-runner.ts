// Runs a scenario to its end, answering each escalation with the next decision the scenario lists.
import type { KeelClient } from '../client';
import type { AgentRequestInput, Decision, RunResult } from '../shared';

export async function runScenarioToEnd(client: KeelClient, request: AgentRequestInput, decisions: Decision[], pollMs = 150): Promise<RunResult> {
  const remaining = [...decisions];
  const { workflowId } = await client.startRun(request);
  const resultPromise = client.getResult(workflowId);
  let settled = false;
  void resultPromise.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const pending = await client.getPending(workflowId).catch(() => null);
    if (pending) {
      const decision = remaining.shift();
      if (!decision) throw new Error(`run ${workflowId} escalated (${pending.reason}) but the scenario lists no more decisions`);
      await client.decide(workflowId, decision);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  if (remaining.length > 0) throw new Error(`run ${workflowId} ended with ${remaining.length} scenario decision(s) unused`);
  return resultPromise;
}
