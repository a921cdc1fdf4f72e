// `keel/tools`: write tools. `defineTool` declares one; a tool says how it failed by throwing `KeelError`.
export { defineTool, type ToolContext, type ToolDefinition } from '../tools';
export { FailureKind, KeelError } from '../shared';
