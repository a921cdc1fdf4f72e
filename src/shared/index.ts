// Workflow-safe exports: used by workflows, activities, the client and the CLI.
export * from './failure-types';
export * from './limits';
export * from './task-kinds';
export * from './task';
export * from './model-key';
export * from './scenario';
export * from './request';
export * from './scenario-file';
export * from './result';
export * from './escalation-types';
export * from './decision';
export * from './messages';
export * from './stable-json';
export * from './activity-types';
export * from './keel-error';
export * from './blob-ref';
export * from './request-problems';
