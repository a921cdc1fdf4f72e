// What the CLI prints for people: the plan as a tree, task progress, the result.
import type { BreakerSnapshot, Plan, RunResult, RunState, TaskStatus } from '../shared';

const icons: Record<TaskStatus, string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  failed: '✗',
  skipped: '↷',
  cancelled: '⊘',
};

/** Each task under the dependency it waits for last; extra dependencies are named after "also after". */
export function renderPlanTree(plan: Plan): string {
  const ids = plan.tasks.map((task) => task.id);
  const parentOf = new Map(plan.tasks.map((task) => [task.id, [...task.dependsOn].sort((a, b) => ids.indexOf(b) - ids.indexOf(a))[0]]));
  const childrenOf = (parent: string | undefined) => plan.tasks.filter((task) => parentOf.get(task.id) === parent);
  const lines = [`Plan · ${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'}${plan.rationale ? ` — ${plan.rationale}` : ''}`];
  const walk = (parent: string | undefined, prefix: string) => {
    const children = childrenOf(parent);
    children.forEach((task, index) => {
      const last = index === children.length - 1;
      const what = task.kind === 'tool' ? `tool ${task.tool}` : task.kind;
      const others = task.dependsOn.filter((dependency) => dependency !== parentOf.get(task.id));
      const flags = [task.critical ? '' : 'non-critical', task.tier ?? '', others.length > 0 ? `also after ${others.join(', ')}` : '', task.id === plan.outputFrom ? "the run's answer" : '']
        .filter(Boolean)
        .join(', ');
      lines.push(`${prefix}${last ? '└─' : '├─'} ${task.id}  ${what}  ${task.description}${flags ? `  (${flags})` : ''}`);
      walk(task.id, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(undefined, '');
  return lines.join('\n');
}

export function renderTaskLine(task: RunState['tasks'][number]): string {
  const what = task.tool ? `${task.kind} ${task.tool}` : task.kind;
  const attempts = task.attempts > 1 ? `, ${task.attempts} attempts` : '';
  const cost = task.costUsd > 0 ? `, $${task.costUsd.toFixed(6)}` : '';
  const model = task.model ? `, ${task.model}` : '';
  const steps = task.steps !== undefined ? `, step ${task.steps}${task.toolCalls?.length ? ` (${task.toolCalls.length} tool call${task.toolCalls.length === 1 ? '' : 's'})` : ''}` : '';
  const error = task.error ? ` — ${task.error.kind}: ${task.error.message}` : '';
  return `  ${icons[task.status]} ${task.id.padEnd(10)} ${what.padEnd(22)} ${task.status}${steps}${attempts}${model}${cost}${error}`;
}

export function renderResult(result: RunResult): string {
  const lines = [
    `Result · ${result.status}${result.reason ? ` — ${result.reason}` : ''}`,
    ...(result.output ? ['', result.output, ''] : []),
    `  tasks ${result.tasks.filter((task) => task.status === 'completed').length}/${result.tasks.length} completed · plans ${result.plans} · ` +
      `cost $${result.costUsd.toFixed(6)} of $${result.budgetUsd} · tokens ${result.tokens.input} in / ${result.tokens.output} out` +
      cacheText(result.cache),
  ];
  return lines.join('\n');
}

export function renderStatus(state: RunState): string {
  const lines = [`${state.workflowId} · ${state.phase} · ${state.goal}`];
  if (state.plan) lines.push(renderPlanTree(state.plan));
  if (state.tasks.length > 0) lines.push('Tasks', ...state.tasks.map(renderTaskLine));
  const reserved = state.reservedUsd > 0 ? ` · $${state.reservedUsd.toFixed(6)} reserved for calls in flight` : '';
  lines.push(`Cost $${state.costUsd.toFixed(6)} of $${state.budgetUsd}${reserved} · tokens ${state.tokens.input} in / ${state.tokens.output} out${cacheText(state.cache)}`);
  if (state.breakers && state.breakers.length > 0) lines.push(renderBreakers(state.breakers));
  if (state.ignoredSignals.length > 0) lines.push(renderIgnored(state));
  if (state.result) lines.push(renderResult(state.result));
  return lines.join('\n');
}

/** The signals the run could not take, the latest three with why (a refused Web UI decision says which door to use). */
function renderIgnored(state: RunState): string {
  const count = state.ignoredSignalCount ?? state.ignoredSignals.length;
  const latest = state.ignoredSignals.slice(-3).map((ignored) => `  - ${ignored.reason.length > 400 ? `${ignored.reason.slice(0, 400)}…` : ignored.reason}`);
  return [`Ignored signals: ${count}${count > latest.length ? ` (the latest ${latest.length})` : ''}`, ...latest].join('\n');
}

function cacheText(cache: { hits: number; misses: number }): string {
  return cache.hits + cache.misses > 0 ? ` · cache ${cache.hits} hit${cache.hits === 1 ? '' : 's'} / ${cache.misses} miss${cache.misses === 1 ? '' : 'es'}` : '';
}

/** The worker's model breakers as the run's last model call saw them; open ones first. */
export function renderBreakers(breakers: BreakerSnapshot[]): string {
  const order = { open: 0, half_open: 1, closed: 2 } as const;
  const sorted = [...breakers].sort((a, b) => order[a.state] - order[b.state]);
  return `Model breakers (at the last model call): ${sorted.map((breaker) => `${breaker.provider}/${breaker.model} ${breaker.state.replace('_', '-')}`).join(' · ')}`;
}
