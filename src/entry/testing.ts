// `keel/testing`: run scenarios (scripted model and tools, no keys) from your own test suite.
export { runScenario, type RunScenarioOptions } from '../testing/run-scenario';
export type { RunResult } from '../shared';
