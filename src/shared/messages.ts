import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { RunState } from './result';

/** Live progress of a run. */
export const stateQuery = defineQuery<RunState>('state');

/** Where a run is: planning, running, awaiting_approval, completed, ... Registered by the dev server. */
export const keelStatusKey = defineSearchAttributeKey('KeelStatus', 'KEYWORD');

export const workflowType = 'agentRun';
export const workflowIdPrefix = 'keel-';
