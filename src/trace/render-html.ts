// The run as one self-contained HTML page: an SVG Gantt chart and the facts, no network, no CDN.
import { formatSeconds as seconds, type Timeline, type TimelineSpan } from './timeline';

const colors: Record<TimelineSpan['status'] | 'wait', string> = {
  completed: '#2f9e44',
  failed: '#e03131',
  cancelled: '#adb5bd',
  timed_out: '#f08c00',
  running: '#1c7ed6',
  wait: '#7048e8',
};

export function renderTimelineHtml(timeline: Timeline): string {
  const total = Math.max(1, timeline.endMs - timeline.startMs);
  const labelWidth = 260;
  const chartWidth = 760;
  const rowHeight = 28;
  const critical = new Set(timeline.criticalPath);
  const rows = [
    ...timeline.spans.map((span) => ({ at: span.startMs, kind: 'span' as const, span })),
    ...timeline.waits.map((wait) => ({ at: wait.startMs, kind: 'wait' as const, wait })),
  ].sort((a, b) => a.at - b.at);
  const x = (ms: number) => labelWidth + ((ms - timeline.startMs) / total) * chartWidth;
  const bars = rows.map((row, index) => {
    const y = 40 + index * rowHeight;
    if (row.kind === 'wait') {
      const { wait } = row;
      const title = `waiting for a human: ${wait.reason}\n${wait.decision ?? 'no decision'}${wait.decidedBy ? ` by ${wait.decidedBy}` : ''} after ${seconds(wait.endMs - wait.startMs)}`;
      const onPath = wait.taskId !== undefined && critical.has(wait.taskId);
      return row_(y, `${onPath ? '★ ' : ''}${wait.taskId ? `human · ${wait.taskId}` : 'waiting for a human'}`, x(wait.startMs), x(wait.endMs), colors.wait, title, `${wait.decision ?? ''} ${wait.decidedBy ? `by ${wait.decidedBy}` : ''}`, true);
    }
    const { span } = row;
    const onPath = span.taskId !== undefined && critical.has(span.taskId) && span.status === 'completed';
    const title = [
      `${span.label} — ${span.status} in ${seconds(span.endMs - span.startMs)}`,
      span.attempts > 1 ? `${span.attempts} attempts` : '',
      span.failure ? `${span.failure.kind}: ${span.failure.message}` : '',
      span.model ? `${span.model}: ${span.tokens?.input ?? 0} in / ${span.tokens?.output ?? 0} out tokens, $${(span.costUsd ?? 0).toFixed(6)}` : '',
      span.planReason ?? '',
      span.answerTask ? `answer from ${span.answerTask}` : '',
      onPath ? 'on the critical path' : '',
    ].filter(Boolean).join('\n');
    const note = [span.attempts > 1 ? `×${span.attempts}` : '', span.failure ? span.failure.kind : '', span.planReason && span.planReason !== 'initial plan' ? 'replan' : ''].filter(Boolean).join(' ');
    return row_(y, `${onPath ? '★ ' : ''}${span.label}`, x(span.startMs), x(span.endMs), colors[span.status], title, note, false);
  });
  const height = 60 + rows.length * rowHeight;
  const ticks = Array.from({ length: 6 }, (_, index) => {
    const at = labelWidth + (index / 5) * chartWidth;
    return `<line x1="${at}" y1="28" x2="${at}" y2="${height - 10}" stroke="#e9ecef"/><text x="${at}" y="20" font-size="11" text-anchor="middle" fill="#868e96">${seconds((index / 5) * total)}</text>`;
  });
  const result = timeline.result;
  const facts = result
    ? `<p><b>${escape(result.status)}</b>${result.reason ? ` — ${escape(result.reason)}` : ''}</p>
<p>${result.plans} plan(s), ${result.replans} replan(s) · cost $${result.costUsd.toFixed(6)} of $${result.budgetUsd} · ${result.tokens.input} in / ${result.tokens.output} out tokens</p>
${result.output ? `<blockquote>${escape(result.output)}</blockquote>` : ''}`
    : `<p>${escape(timeline.status)}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keel trace · ${escape(timeline.workflowId)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212529}
h1{font-size:18px;margin:0 0 8px} blockquote{margin:8px 0;padding:8px 12px;background:#f8f9fa;border-left:3px solid #2f9e44}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
svg text{font-family:inherit}
</style></head><body>
<h1>Keel run ${escape(timeline.workflowId)}</h1>
${facts}
<p>Critical path: ${timeline.criticalPath.length > 0 ? escape(timeline.criticalPath.join(' → ')) : '(none)'}</p>
<p class="legend">${(['completed', 'failed', 'cancelled', 'timed_out', 'wait'] as const).map((key) => `<span><i style="background:${colors[key]}"></i>${key === 'wait' ? 'waiting for a human' : key.replace('_', ' ')}</span>`).join('')}<span>★ critical path · hover a bar for details</span></p>
<svg width="${labelWidth + chartWidth + 140}" height="${height}" role="img" aria-label="Gantt chart of the run">
${ticks.join('\n')}
${bars.join('\n')}
</svg>
</body></html>
`;
}

function row_(y: number, label: string, from: number, to: number, color: string, title: string, note: string, dashed: boolean): string {
  const width = Math.max(2, to - from);
  return `<g><title>${escape(title)}</title>
<text x="8" y="${y + 14}" font-size="12">${escape(label.length > 36 ? `${label.slice(0, 35)}…` : label)}</text>
<rect x="${from.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="18" rx="3" fill="${color}"${dashed ? ' fill-opacity="0.35" stroke="' + color + '" stroke-dasharray="4 3"' : ''}/>
<text x="${(from + width + 6).toFixed(1)}" y="${y + 14}" font-size="11" fill="#495057">${escape(note.trim())}</text></g>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
