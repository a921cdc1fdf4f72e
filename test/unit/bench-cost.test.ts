// bench/cost runs and its figures are coherent: routing costs less than all-large, the cache less
// again, and hits only come where the cache is on. (It needs dist/: `npm test` builds first.)
import { execFileSync } from 'node:child_process';
import path from 'node:path';

test('bench/cost prints cost per run, % saved and the cache hit rate for all three strategies', () => {
  const output = execFileSync(process.execPath, [path.resolve(__dirname, '../../bench/cost.mjs'), '--runs', '40'], { encoding: 'utf8' });
  const row = (strategy: string) => {
    const match = new RegExp(`^${strategy.replace('+', '\\+')}\\s+\\$(\\d+\\.\\d+)\\s+(-?\\d+\\.\\d)%\\s+(\\S+)\\s+(\\d+\\.\\d)%$`, 'm').exec(output);
    if (!match) throw new Error(`no row for ${strategy} in:\n${output}`);
    return { cost: Number(match[1]), saved: Number(match[2]), hitRate: match[3]!, avoided: Number(match[4]) };
  };
  const [large, routed, cached] = [row('all large'), row('routed'), row('routed + cached')];
  expect(output).toMatch(/^bench\/cost · 40 runs · \d+ model calls each way/);
  expect(large.saved).toBe(0);
  expect(routed.cost).toBeLessThan(large.cost);
  expect(cached.cost).toBeLessThan(routed.cost);
  expect(routed.saved).toBeGreaterThan(0);
  expect([large.hitRate, routed.hitRate]).toEqual(['—', '—']);
  expect(Number(cached.hitRate.replace('%', ''))).toBeGreaterThan(0);
  expect(cached.avoided).toBeGreaterThan(0);
});
