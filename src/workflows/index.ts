// The workflow functions the worker registers.
export { agentRun } from './agent-run';
