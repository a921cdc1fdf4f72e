// The scheduler on a real dev server: parallel branches, dependency outputs, no waves.
import { z } from 'zod';
import { defineTool, ToolRegistry } from '../../src/tools';
import { activityTimeline } from '../helpers/history';
import { llmTask, scriptedRequest, toolTask } from '../helpers/scenarios';
import { createTestKit, type TestKit } from '../helpers/temporal';

const joined: Array<{ parts: string[] }> = [];
const join = defineTool({
  name: 'join',
  description: 'joins its parts',
  input: z.object({ parts: z.array(z.string()) }),
  async run(input) {
    joined.push(input);
    return { joined: input.parts.join('+') };
  },
});

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ dependencies: { tools: new ToolRegistry([join as never]) } });
});
afterAll(async () => kit.close());

test('a diamond runs its two middle tasks in parallel and passes both outputs to the last', async () => {
  const request = scriptedRequest({
    tasks: [
      toolTask('t1', 'fetch_root'),
      toolTask('t2', 'fetch_left', ['t1']),
      toolTask('t3', 'fetch_right', ['t1']),
      toolTask('t4', 'join', ['t2', 't3'], { input: { parts: ['{{t2.value}}', '{{t3.value}}'] } }),
    ],
    tools: {
      fetch_root: [{ result: { value: 'root' } }],
      fetch_left: [{ result: { value: 'left' }, delayMs: 400 }],
      fetch_right: [{ result: { value: 'right' }, delayMs: 400 }],
    },
  });
  const result = await kit.run(request);

  expect(result.status).toBe('completed');
  expect(result.tasks.map((task) => [task.id, task.status])).toEqual([
    ['t1', 'completed'],
    ['t2', 'completed'],
    ['t3', 'completed'],
    ['t4', 'completed'],
  ]);
  const timeline = await activityTimeline(kit.client, result.workflowId);
  const scheduledT2 = timeline.scheduled.get('t2 · fetch_left')!;
  const scheduledT3 = timeline.scheduled.get('t3 · fetch_right')!;
  const firstMiddleCompleted = Math.min(timeline.completed.get('t2 · fetch_left')!, timeline.completed.get('t3 · fetch_right')!);
  expect(Math.max(scheduledT2, scheduledT3)).toBeLessThan(firstMiddleCompleted);
  expect(joined).toContainEqual({ parts: ['left', 'right'] });
});

test('a slow branch does not hold up an independent short branch', async () => {
  const request = scriptedRequest({
    tasks: [
      toolTask('slow', 'slow_tool'),
      llmTask('after_slow', ['slow']),
      toolTask('quick', 'quick_tool'),
      llmTask('after_quick', ['quick']),
    ],
    tools: { slow_tool: [{ result: 'slow done', delayMs: 3_000 }], quick_tool: [{ result: 'quick done', delayMs: 50 }] },
    model: { 'task:after_slow': [{ text: 'a' }], 'task:after_quick': [{ text: 'b' }] },
  });
  const result = await kit.run(request);

  expect(result.status).toBe('completed');
  const timeline = await activityTimeline(kit.client, result.workflowId);
  expect(timeline.completed.get('after_quick · llm')!).toBeLessThan(timeline.completed.get('slow · slow_tool')!);
  expect(timeline.scheduled.get('after_slow · llm')!).toBeGreaterThan(timeline.completed.get('slow · slow_tool')!);
});
