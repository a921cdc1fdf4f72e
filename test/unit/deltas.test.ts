// A model call's deltas on their way to the run: batched in time, sent at once when large, in
// order; an outage is waited out, a refusal is not.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DeltaPublisher } from '../../src/activities/deltas';
import type { DeltaBatch } from '../../src/shared';

const call = { key: 'task:reply', taskId: 'reply', attempt: 1 };
const inActivity = <T>(body: () => Promise<T>) => new MockActivityEnvironment().run(body);

test('deltas within the batch time go as one batch; a large one goes at once; close sends the rest and the failure', async () => {
  const sent: DeltaBatch[] = [];
  await inActivity(async () => {
    const deltas = new DeltaPublisher(async (batch) => void sent.push(batch), call, 50);
    deltas.push({ text: 'Dear ' });
    deltas.push({ text: 'Ana' });
    deltas.push({ toolCall: { index: 0, name: 'lookup', arguments: '' } });
    deltas.push({ toolCall: { index: 0, arguments: '{"id":' } });
    deltas.push({ toolCall: { index: 0, arguments: '7}' } });
    await new Promise((resolve) => setTimeout(resolve, 120));
    deltas.push({ text: 'x'.repeat(40_000) });
    await new Promise((resolve) => setTimeout(resolve, 10));
    deltas.push({ text: ', sorry' });
    await deltas.close({ failure: 'transient: cut' });
  });
  expect(sent).toEqual([
    // A tool call's pieces within one batch are joined: its name, then its arguments so far.
    { ...call, text: 'Dear Ana', toolCalls: [{ index: 0, name: 'lookup', arguments: '{"id":7}' }] },
    { ...call, text: 'x'.repeat(40_000) },
    { ...call, text: ', sorry', failure: 'transient: cut' },
  ]);
});

test('a later attempt announces itself first; an unreachable server is tried again, a refusal only once', async () => {
  const sent: DeltaBatch[] = [];
  let unavailable = 2;
  let refusals = 0;
  await inActivity(async () => {
    const deltas = new DeltaPublisher(
      async (batch) => {
        if (batch.text === 'too big') {
          refusals += 1;
          throw Object.assign(new Error('payload too large'), { code: 3 });
        }
        if (unavailable-- > 0) throw Object.assign(new Error('unavailable'), { code: 14 });
        sent.push(batch);
      },
      { ...call, attempt: 2 },
      20,
    );
    deltas.begin();
    deltas.push({ text: 'too big' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    deltas.push({ text: 'fine' });
    await deltas.close();
  });
  expect(sent).toEqual([{ ...call, attempt: 2, text: '' }, { ...call, attempt: 2, text: 'fine' }]);
  expect(refusals).toBe(1);
});
