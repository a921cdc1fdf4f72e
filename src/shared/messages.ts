import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, ReplanRequest } from './decision';
import type { DecisionReceipt, PendingEscalation } from './escalation-types';
import type { RunState } from './result';

/** Live progress of a run. */
export const stateQuery = defineQuery<RunState>('state');

/** Where a run is: planning, running, awaiting_approval, completed, ... Registered by the dev server. */
export const keelStatusKey = defineSearchAttributeKey('KeelStatus', 'KEYWORD');

export const workflowType = 'agentRun';
export const workflowIdPrefix = 'keel-';

/** A human decision. The Web UI's "Send a Signal" sends this; invalid payloads are recorded and ignored. */
export const decideSignal = defineSignal<[Decision]>('decide');
/** The same decision, validated: the CLI and SDK get an immediate error for a decision the run cannot take. */
export const decideUpdate = defineUpdate<DecisionReceipt, [Decision]>('decide');
/** Force a replan with guidance, at any time. */
export const replanSignal = defineSignal<[ReplanRequest]>('replan');
/** The escalation the run waits on, if any. */
export const pendingQuery = defineQuery<PendingEscalation | null>('pending');
