// Follows a run live: prints the plan once it exists and a line each time a task changes.
import { TemporalUnreachableError, type KeelClient } from '../client';
import type { RunResult, RunState } from '../shared';
import { renderPlanTree, renderResult, renderTaskLine } from './render';

/** How long `--wait` keeps trying a Temporal server that stopped answering before it exits 3. */
const giveUpUnreachableMs = 10_000;

export async function followRun(client: KeelClient, workflowId: string, write: (text: string) => void, pollMs = 300): Promise<RunResult> {
  const resultPromise = client.getResult(workflowId);
  let settled = false;
  void resultPromise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const printedPlans = new Set<number>();
  const lastLine = new Map<string, string>();
  let lastPhase = '';

  const show = (state: RunState) => {
    if (state.plan && !printedPlans.has(state.plans)) {
      printedPlans.add(state.plans);
      write(renderPlanTree(state.plan));
    }
    for (const task of state.tasks) {
      if (task.status === 'pending') continue;
      const line = renderTaskLine(task);
      if (lastLine.get(task.id) !== line) {
        lastLine.set(task.id, line);
        write(line);
      }
    }
    if (state.phase !== lastPhase) {
      lastPhase = state.phase;
      if (!state.result) write(`… ${state.phase}`);
    }
  };

  let unreachableSince: number | undefined;
  while (!settled) {
    try {
      show(await client.queryState(workflowId));
      unreachableSince = undefined;
    } catch (error) {
      // The query needs a worker; while none answers, keep waiting for the result. The server
      // itself gone is another matter: the result's long poll would wait for it for ever.
      if (error instanceof TemporalUnreachableError) {
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > giveUpUnreachableMs) throw error;
      }
    }
    await Promise.race([resultPromise.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  try {
    show(await client.queryState(workflowId));
  } catch {
    // no worker to answer the final query: the result below says it all
  }
  const result = await resultPromise;
  write(renderResult(result));
  return result;
}
