// Everything the client, the CLI, the ingest server and the activities use, zod schemas included. Workflow code imports ./workflow instead.
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
