// Every example scenario ends as it says it will (its "expect"), answering escalations from the file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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
  const decisions = [...expected!.decisions];
  const result = await kit.withWorker(async () => {
    const { workflowId } = await kit.keel.startRun({ ...request, idempotencyKey: uniqueName(file.replace('.json', '')) });
    const resultPromise = kit.keel.getResult(workflowId);
    let done = false;
    void resultPromise.finally(() => (done = true));
    while (!done) {
      const pending = await kit.keel.getPending(workflowId).catch(() => null);
      if (pending) {
        const decision = decisions.shift();
        if (!decision) throw new Error(`${file} escalated (${pending.reason}) but its scenario lists no more decisions`);
        await kit.keel.decide(workflowId, decision);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return resultPromise;
  });
  expect({ file, status: result.status, reason: result.reason }).toEqual({ file, status: expected!.status, reason: result.reason });
  expect(decisions).toEqual([]); // every scripted decision was needed
  expect(result.escalations.map((escalation) => escalation.decision)).toEqual(expected!.decisions.map((decision) => decision.decision));
});
