// Pure: what a failed task leads to. The table of issue #3, in one function.
import type { FailureKind, Task } from '../shared/workflow';

export type RecoveryPath = 'reask' | 'fallback' | 'skip' | 'replan' | 'escalate';

/** Model output that was not JSON or not the schema is re-asked this many times before replanning. */
export const maxReasks = 2;

const needsDifferentCall: readonly FailureKind[] = ['semantic', 'context', 'malformed'];
const toolUnavailable: readonly FailureKind[] = ['permanent', 'transient', 'rate_limit', 'timeout'];

export function recoveryPath(task: Task, kind: FailureKind, tried: { reasks: number; usedFallback: boolean }): RecoveryPath {
  if (kind === 'malformed' && task.kind === 'llm' && tried.reasks < maxReasks) return 'reask';
  if (task.kind === 'tool' && task.fallbackTool && !tried.usedFallback && toolUnavailable.includes(kind)) return 'fallback';
  if (!task.critical) return 'skip';
  if (needsDifferentCall.includes(kind)) return 'replan';
  return 'escalate'; // permanent, retries exhausted, budget
}
