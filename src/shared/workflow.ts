// The workflow-safe entry of the contracts: what code in src/workflows may import. Values come only
// from zod-free modules; the types of the zod schemas come as types, which the bundle never sees.
// Keel's bundles preload these modules (src/workflow-bundle.ts), so they must keep no state at module
// level; and a bundle that does not preload evaluates them for every run, so nothing heavy comes in here.
export * from './failure-types';
export * from './limits';
export * from './task-kinds';
export * from './model-key';
export * from './messages';
export * from './stable-json';
export * from './blob-ref';
export * from './escalation-types';
export * from './approvals';
export * from './stream';
export * from './keel-error';
export type * from './activity-types';
export * from './result';
export type { AgentRequest, AgentRequestInput } from './request';
export type { Plan, Task, TaskDraft } from './task';
export type { Decision, ReplanRequest, Verdict } from './decision';
export type { Script, ScriptedFailure, ScriptedModelEntry, ScriptedToolEntry, Usage } from './scenario';
export * from './contract-rules';
