import { KeelClient } from '../client';
import { ExitCode } from './cli-error';
import type { CliIo } from './io';

export async function pendingCommand(options: { json?: boolean }, io: CliIo): Promise<number> {
  const client = await KeelClient.connect();
  try {
    const runs = await client.listPending();
    if (options.json) {
      io.json(runs);
      return ExitCode.ok;
    }
    if (runs.length === 0) {
      io.out('no runs are waiting for a decision');
      return ExitCode.ok;
    }
    for (const run of runs) {
      const pending = run.pending;
      io.out(`${run.workflowId}  ${pending ? `${pending.kind}${pending.taskId ? ` · ${pending.taskId}` : ''} — ${pending.reason}` : '(no worker answered)'}`);
      if (pending) io.out(`  choices: ${pending.choices.map((choice) => choice.decision).join(', ')} · default ${pending.defaultAction} at ${pending.timeoutAt}${pending.defaultNote ? ` (${pending.defaultNote})` : ''}`);
      if (pending?.approvers) io.out(`  who may decide: ${pending.approvers.map((list) => list.join(', ')).join(' (and also) ')}`);
      if (pending?.quorum) io.out(`  approvals: ${pending.quorum.approvedBy.length} of ${pending.quorum.needed}${pending.quorum.approvedBy.length > 0 ? ` (${pending.quorum.approvedBy.join(', ')})` : ''}`);
      if (pending?.verifiedOnly) io.out('  only signed decisions count: `keel approve` with KEEL_SIGNING_KEY, or keel serve with a token');
    }
    return ExitCode.ok;
  } finally {
    await client.close();
  }
}
