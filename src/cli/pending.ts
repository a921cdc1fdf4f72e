import { KeelClient } from '../client';
import { ExitCode } from './cli-error';

export async function pendingCommand(options: { json?: boolean }, io: { out: (text: string) => void }): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const runs = await client.listPending();
    if (options.json) {
      io.out(JSON.stringify(runs, null, 2));
      return ExitCode.ok;
    }
    if (runs.length === 0) {
      io.out('no runs are waiting for a decision');
      return ExitCode.ok;
    }
    for (const run of runs) {
      const pending = run.pending;
      io.out(`${run.workflowId}  ${pending ? `${pending.kind}${pending.taskId ? ` · ${pending.taskId}` : ''} — ${pending.reason}` : '(no worker answered)'}`);
      if (pending) io.out(`  choices: ${pending.choices.map((choice) => choice.decision).join(', ')} · default ${pending.defaultAction} at ${pending.timeoutAt}`);
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}
