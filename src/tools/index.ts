export { defineTool, type ToolContext, type ToolDefinition } from './define-tool';
export { ToolRegistry } from './registry';
export { loadToolModules, ToolModuleError } from './load';
export { createAccount, sendEmail, verifyDocument } from './builtin/onboarding';

import type { ToolDefinition } from './define-tool';
import { createAccount, sendEmail, verifyDocument } from './builtin/onboarding';

/** The tools a default worker ships with. */
export function builtinTools(options: { outboxDirectory: string }): Array<ToolDefinition<never>> {
  return [verifyDocument, createAccount, sendEmail(options.outboxDirectory)] as Array<ToolDefinition<never>>;
}
