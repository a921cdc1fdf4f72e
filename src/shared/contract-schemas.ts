// The contracts that reach a workflow from outside, and the JSON Schemas the workflow's checker
// reads (generated into src/workflows/contract-schemas.json by `npm run build`).
import { DecisionSchema, ReplanRequestSchema } from './decision';
import { jsonSchemaOf } from './json-schema';
import { AgentRequestSchema } from './request';
import { PlanSchema } from './task';

export const workflowContracts = { request: AgentRequestSchema, plan: PlanSchema, decision: DecisionSchema, replan: ReplanRequestSchema } as const;

/** The generated file's text: each contract's JSON Schema, with the keyword the workflow's checker reads. */
export function workflowContractSchemasText(): string {
  const schemas = Object.fromEntries(Object.entries(workflowContracts).map(([name, schema]) => [name, jsonSchemaOf(schema, { forWorkflow: true })]));
  return `${JSON.stringify(schemas, null, 2)}\n`;
}
