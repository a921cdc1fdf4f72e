// What every door refuses before a run starts, checked without a server.
import { jsonLimits, jsonShapeProblems, requestProblems } from '../../src/shared';

const nested = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let level = 0; level < levels; level++) value = { next: value };
  return value;
};

test('depth: 64 levels pass, 65 are refused naming the limit, and 100,000 do not overflow the check', () => {
  expect(jsonShapeProblems({ input: nested(jsonLimits.maxDepth - 1) })).toEqual([]);
  expect(jsonShapeProblems({ input: nested(jsonLimits.maxDepth) })).toEqual([expect.stringContaining('nested more than 64 levels deep')]);
  expect(jsonShapeProblems(nested(100_000))).toEqual([expect.stringContaining('nested more than 64 levels deep')]);
});

test('size: a request past 1.5 MB of JSON is refused with its size and the limit', () => {
  expect(jsonShapeProblems({ goal: 'g', input: { blob: 'x'.repeat(1_500_000) } })).toEqual([]);
  expect(jsonShapeProblems({ goal: 'g', input: { blob: 'x'.repeat(1_600_000) } })).toEqual([
    'the request is 1600032 bytes of JSON; the most a run takes is 1572864 (1.5 MB): pass large data by reference (a URL, a path or an id in input)',
  ]);
});

test('a deadline at or before now is refused; one after is not', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  expect(requestProblems({ deadline: '2026-12-02T12:00:00Z' }, now)).toEqual([expect.stringMatching(/^deadline: 2026-12-02T12:00:00Z has already passed \(it is 2026-12-02T12:00:00.000Z now\)/)]);
  expect(requestProblems({ deadline: '2026-12-02T12:00:01Z' }, now)).toEqual([]);
});
