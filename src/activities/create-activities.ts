// Side effects only: model calls, tool calls. The workflow decides what happens with the results.
// One file per concept (planning, tasks, evaluation, synthesis, run facts); this one builds them all
// from the worker's dependencies.
import type { ApprovalTrust, KeelActivities } from '../shared';
import type { ModelRouter } from '../llm/router';
import type { ModelPrice } from '../llm/pricing';
import type { ToolRegistry } from '../tools';
import type { BlobStore } from '../storage/blobs';
import { agentActivities } from './agent';
import { evaluationActivities } from './evaluation';
import { createModelCalls } from './model-calls';
import { planningActivities } from './planning';
import { signalSender } from './run-facts';
import { synthesisActivities } from './synthesis';
import { taskActivities } from './tasks';

export { parseStructured } from './structured-output';

export interface ActivityDependencies {
  tools: ToolRegistry;
  /** Real model providers behind routing, breakers and the cache; undefined when none is configured (scenario runs still work). */
  model?: ModelRouter;
  /** Prices for scripted runs (real runs use the router's). */
  prices?: Record<string, ModelPrice>;
  /** Put prompts and answers on model-call spans (off unless configured: they may hold personal data). */
  captureContent?: boolean;
  /** Outputs larger than blobThresholdBytes are stored here and passed by reference. */
  blobs?: BlobStore;
  blobThresholdBytes?: number;
  /** Public keys for signed decisions (KEEL_DECISION_KEYS) and the worker's approver policy (keel.config.json approvals). */
  approvals?: ApprovalTrust;
  /** Model text deltas go to the run's stream in batches at most this often (default 100 ms); 0: none. */
  streamBatchMs?: number;
}

export function createActivities(deps: ActivityDependencies): KeelActivities {
  const models = createModelCalls(deps);
  const { runTask, offload } = taskActivities(deps, models);
  return {
    ...planningActivities(deps, models),
    runTask,
    ...agentActivities(deps, models, offload),
    ...evaluationActivities(deps, models),
    ...synthesisActivities(deps, models, offload),
    signalSender,
    approvalTrust: async () => deps.approvals ?? { keys: [] },
  };
}
