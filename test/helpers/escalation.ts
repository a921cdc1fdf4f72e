import type { KeelClient } from '../../src/client';
import type { PendingEscalation } from '../../src/shared';

/** Polls the run's `pending` query until it waits on an escalation. */
export async function waitForPending(keel: KeelClient, workflowId: string, timeoutMs = 20_000): Promise<PendingEscalation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await keel.getPending(workflowId).catch(() => null);
    if (pending) return pending;
    if (Date.now() > deadline) throw new Error(`run ${workflowId} did not escalate within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
