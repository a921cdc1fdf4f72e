// The run as a compact waterfall in the terminal.
import { formatSeconds as seconds, type Timeline, type TimelineSpan } from './timeline';

const width = 40;
const marks: Record<TimelineSpan['status'], string> = { completed: '█', failed: '▓', cancelled: '░', timed_out: '▓', running: '▒' };

export function renderTimelineText(timeline: Timeline): string {
  const total = Math.max(1, timeline.endMs - timeline.startMs);
  const bar = (from: number, to: number, mark: string) => {
    const start = Math.min(width - 1, Math.floor(((from - timeline.startMs) / total) * width));
    const length = Math.max(1, Math.round(((to - from) / total) * width));
    return `${' '.repeat(start)}${mark.repeat(Math.min(length, width - start))}`.padEnd(width);
  };
  const critical = new Set(timeline.criticalPath);
  const rows = [
    ...timeline.spans.map((span) => ({ at: span.startMs, line: spanLine(span, bar, critical) })),
    ...timeline.waits.map((wait) => ({
      at: wait.startMs,
      line: `${`${wait.taskId && critical.has(wait.taskId) ? '*' : ' '}⏳ human${wait.taskId ? ` · ${wait.taskId}` : ''}`.padEnd(28).slice(0, 28)} │${bar(wait.startMs, wait.endMs, '┄')}│ ${seconds(wait.endMs - wait.startMs).padStart(7)}  ${wait.decision ?? 'no decision'}${wait.decidedBy ? ` by ${wait.decidedBy}` : ''}${wait.timedOut ? ' (timed out)' : ''} — ${wait.reason}`,
    })),
  ].sort((a, b) => a.at - b.at);
  const result = timeline.result;
  const lines = [
    `${timeline.workflowId} · ${timeline.status} · ${seconds(total)}${result ? ` · $${result.costUsd.toFixed(6)} of $${result.budgetUsd} · ${result.tokens.input} in / ${result.tokens.output} out tokens` : ''}`,
    ...(result?.reason ? [`  ${result.reason}`] : []),
    ...rows.map((row) => row.line),
    `critical path: ${timeline.criticalPath.length > 0 ? timeline.criticalPath.join(' → ') : '(none)'}`,
    `█ completed  ▓ failed  ░ cancelled  ┄ waiting for a human  * on the critical path`,
  ];
  return lines.join('\n');
}

function spanLine(span: TimelineSpan, bar: (from: number, to: number, mark: string) => string, critical: Set<string>): string {
  const star = span.taskId && critical.has(span.taskId) && span.status === 'completed' ? '*' : ' ';
  const facts = [
    span.status,
    span.attempts > 1 ? `${span.attempts} attempts` : '',
    span.model ? `${span.model} ${span.tokens?.input ?? 0}/${span.tokens?.output ?? 0} tok $${(span.costUsd ?? 0).toFixed(6)}` : '',
    span.planReason ?? '',
    span.answerTask ? `answer from ${span.answerTask}` : '',
  ].filter(Boolean);
  const failure = span.failure ? `\n${' '.repeat(31)}↳ ${span.failure.kind}: ${span.failure.message}` : '';
  return `${`${star}${span.label}`.padEnd(28).slice(0, 28)} │${bar(span.startMs, span.endMs, marks[span.status])}│ ${seconds(span.endMs - span.startMs).padStart(7)}  ${facts.join(' · ')}${failure}`;
}
