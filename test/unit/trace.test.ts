// `keel trace` from a history alone: a recorded run with a replan and an escalation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHistory } from '../../src/trace/replay';
import { renderTimelineHtml } from '../../src/trace/render-html';
import { renderTimelineText } from '../../src/trace/render-text';
import { buildTimeline } from '../../src/trace/timeline';

const history = parseHistory(readFileSync(path.resolve(__dirname, '../histories/replan-then-approval.json'), 'utf8'), 'replan-then-approval.json');
const timeline = buildTimeline(history);

test('the timeline has each plan, each task attempt with its cause, the wait with its decision, and the critical path', () => {
  expect(timeline.status).toBe('completed');
  expect(timeline.spans.map((span) => [span.label, span.status])).toEqual([
    ['plan', 'completed'],
    ['find · crm_lookup', 'failed'],
    ['plan', 'completed'],
    ['find_by_id · crm_lookup', 'completed'],
    ['apply · crm_update', 'completed'],
    ['synthesize', 'completed'],
  ]);
  expect(timeline.spans[1]!.failure).toEqual({ kind: 'semantic', message: "'Globex' matched Globex Ltd (UK), not the customer in the ticket" });
  expect(timeline.spans[2]!.planReason).toBe("replan: task find failed: semantic: 'Globex' matched Globex Ltd (UK), not the customer in the ticket");
  expect(timeline.spans[0]).toMatchObject({ model: 'gpt-4o', tokens: { input: expect.any(Number), output: expect.any(Number) }, costUsd: expect.any(Number) });
  expect(timeline.waits).toEqual([expect.objectContaining({ taskId: 'approve_change', decision: 'approve', decidedBy: 'account-manager' })]);
  expect(timeline.waits[0]!.endMs).toBeGreaterThanOrEqual(timeline.waits[0]!.startMs);
  expect(timeline.criticalPath).toEqual(['find_by_id', 'approve_change', 'apply']);
});

test('the terminal waterfall shows rows in time order with causes, decisions and the critical path', () => {
  const text = renderTimelineText(timeline);
  const lines = text.split('\n');
  expect(lines[0]).toMatch(/^history-replan-then-approval · completed · [\d.]+ s · \$[\d.]+ of \$0.2/);
  expect(text).toContain("↳ semantic: 'Globex' matched Globex Ltd (UK)");
  expect(text).toMatch(/\*⏳ human · approve_change\s+│.*│.*approve by account-manager/);
  expect(text).toMatch(/\*apply · crm_update\s+│/);
  expect(text).toContain('critical path: find_by_id → approve_change → apply');
  const order = ['find · crm_lookup', 'find_by_id · crm_lookup', 'human · approve_change', 'apply · crm_update', 'synthesize'].map((label) => text.indexOf(label));
  expect([...order].sort((a, b) => a - b)).toEqual(order);
});

test('the HTML page is self-contained: an SVG Gantt chart, no scripts, nothing fetched', () => {
  const html = renderTimelineHtml(timeline);
  expect(html).toMatch(/^<!doctype html>/);
  expect(html).toContain('<svg');
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<script|<link|@import|url\(/i);
  expect(html).toContain('Critical path: find_by_id → approve_change → apply');
  expect(html).toContain('★ human · approve_change');
  expect(html).toContain('semantic: &#39;Globex&#39; matched Globex Ltd (UK)');
  expect((html.match(/<rect /g) ?? []).length).toBe(timeline.spans.length + timeline.waits.length);
});

test('a run that brought its own plan has no plan activity: the critical path comes from the plan in its input', () => {
  const pipeline = buildTimeline(parseHistory(readFileSync(path.resolve(__dirname, '../histories/pipeline.json'), 'utf8'), 'pipeline.json'));
  expect(pipeline.spans.map((span) => span.activityType)).toEqual(['runTask', 'runTask', 'runTask', 'runTask']);
  expect(pipeline.criticalPath).toEqual(['verify', 'account', 'welcome', 'send']);
});

test('a plan that names its answer task says so in the timeline and the waterfall', () => {
  const triage = buildTimeline(parseHistory(readFileSync(path.resolve(__dirname, '../histories/ticket-triage.json'), 'utf8'), 'ticket-triage.json'));
  expect(triage.spans.map((span) => [span.label, span.answerTask])).toEqual([
    ['plan', 'triage'],
    ['ticket · fetch_ticket', undefined],
    ['triage · llm', undefined],
  ]);
  expect(renderTimelineText(triage)).toMatch(/^ plan .*· initial plan · answer from triage$/m);
  expect(timeline.spans.every((span) => span.answerTask === undefined)).toBe(true);
});

test("an agent loop's steps and tool calls are rows; a tool call the model was told to correct is failed, with the tool's words", () => {
  const agent = buildTimeline(parseHistory(readFileSync(path.resolve(__dirname, '../histories/support-agent.json'), 'utf8'), 'support-agent.json'));
  expect(agent.spans.map((span) => [span.label, span.status])).toEqual([
    ['agent · step 1', 'completed'],
    ['agent · lookup_order', 'failed'],
    ['agent · check_stock', 'completed'],
    ['agent · step 2', 'completed'],
    ['agent · lookup_order', 'completed'],
    ['agent · step 3', 'completed'],
  ]);
  expect(agent.spans[1]!.failure).toEqual({ kind: 'semantic', message: 'no order 71 for ana@example.com (her orders: 7, 12)' });
  expect(renderTimelineText(agent)).toContain('no order 71 for ana@example.com');
});
