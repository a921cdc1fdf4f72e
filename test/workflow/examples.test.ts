// Every example scenario ends as it says it will (its "expect"), answering escalations from the file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runScenarioToEnd } from '../../src/testing/scenario-runner';
import { parseScenario } from '../../src/shared';
import { createTestKit, uniqueName, type TestKit } from '../helpers/temporal';

const examples = path.resolve(__dirname, '../../examples');
const files = readdirSync(examples).filter((file) => file.endsWith('.json'));

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit();
});
afterAll(async () => kit.close());

test.each(files)('%s ends as its scenario expects', async (file) => {
  const { request, expect: expected } = parseScenario(readFileSync(path.join(examples, file), 'utf8'), file);
  expect(expected).toBeDefined();
  // runScenarioToEnd throws when the run escalates more, or fewer, times than the scenario answers.
  const result = await kit.withWorker(() =>
    runScenarioToEnd(kit.keel, { ...request, idempotencyKey: uniqueName(file.replace('.json', '')) }, expected!.decisions),
  );
  expect({ file, status: result.status, reason: result.reason }).toEqual({ file, status: expected!.status, reason: result.reason });
  expect(result.escalations.map((escalation) => escalation.decision)).toEqual(expected!.decisions.map((decision) => decision.decision));
});
