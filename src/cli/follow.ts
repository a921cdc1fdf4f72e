// Follows a run live: prints the plan once it exists and a line each time a task changes.
import { TemporalUnreachableError, type KeelClient } from '../client';
import type { RunResult, RunState } from '../shared';
import { renderPlanTree, renderResult, renderTaskLine } from './render';
import { withTimeout } from '../trace/replay';

/** How long `--wait` keeps trying a Temporal server that stopped answering before it exits 3. */
const giveUpUnreachableMs = 10_000;

/**
 * Lines, and a model's text as it streams: a streamed answer is shown on its own line under the
 * running task, and ended before the next line.
 */
class Printer {
  private open: string | undefined;
  constructor(
    private readonly out: (text: string) => void,
    private readonly partial?: (text: string) => void,
  ) {}

  readonly line = (text: string): void => {
    this.close();
    this.out(text);
  };

  text(key: string, label: string, text: string): void {
    if (!this.partial) return;
    if (this.open !== key) {
      this.close();
      this.partial(`    ${label} › `);
      this.open = key;
    }
    this.partial(text.replace(/\n/g, ' '));
  }

  close(): void {
    if (this.open !== undefined && this.partial) this.partial('\n');
    this.open = undefined;
  }
}

/** Shows each model call's text as it streams (from the run's live stream), until the run ends or `stop` aborts. */
async function showTokens(client: KeelClient, workflowId: string, printer: Printer, stop: AbortSignal): Promise<void> {
  try {
    for await (const event of client.events(workflowId, { signal: stop })) {
      if (event.type === 'model.delta' && event.text) printer.text(`${event.key}#${event.attempt}`, event.key, event.text);
      else if (event.type === 'task.retrying') printer.line(`    ${event.taskId}: attempt ${event.attempt} (the text above is void: ${event.failure})`);
    }
  } catch {
    // The lines go on from the run's state; tokens are a bonus.
  }
}

export async function followRun(client: KeelClient, workflowId: string, out: (text: string) => void, pollMs = 300, partial?: (text: string) => void): Promise<RunResult> {
  const printer = new Printer(out, partial);
  const write = printer.line;
  const stopTokens = new AbortController();
  const tokens = partial ? showTokens(client, workflowId, printer, stopTokens.signal) : Promise.resolve();
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
    await withTimeout(resultPromise.catch(() => undefined), pollMs);
  }
  try {
    show(await client.queryState(workflowId));
  } catch {
    // no worker to answer the final query: the result below says it all
  }
  const result = await resultPromise;
  // The stream ends with run.ended; give it a moment to show the last tokens, then stop it.
  await withTimeout(tokens, 1_000);
  stopTokens.abort();
  write(renderResult(result));
  return result;
}
