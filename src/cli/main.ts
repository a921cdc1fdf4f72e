// The `keel` command. Each subcommand lives in its own file; errors become one sentence on stderr.
import { Command, CommanderError } from 'commander';
import { InvalidDecisionError, InvalidRequestError, NoWorkerError, RunEndedError, RunNotFoundError, TemporalRefusedError, TemporalUnreachableError } from '../client';
import { ConfigurationError, loadConfig } from '../config';
import { findTemporalCli, TemporalCliNotFoundError } from '../servers/dev-server';
import { InvalidHistoryError } from '../trace/replay';
import { InvalidScenarioError } from '../shared';
import { CliError, ExitCode } from './cli-error';
import { processIo } from './io';
import { decideCommand, defaultWaitForWorkerSeconds } from './decide';
import { devCommand } from './dev';
import { exportCommand } from './export';
import { recordHistoriesCommand } from './record-histories';
import { replayCommand } from './replay';
import { traceCommand } from './trace';
import { pendingCommand } from './pending';
import { toolsCommand } from './tools';
import { mcpCommand } from './mcp';
import { runCommand } from './run';
import { scheduleCreateCommand, scheduleDeleteCommand, scheduleListCommand } from './schedule';
import { serveCommand } from './serve';
import { codecServerCommand } from './codec-server';
import { statusCommand } from './status';
import { workerCommand } from './worker';
import { keysNewCommand } from './keys';
import { initCommand } from './init';

const io = processIo;

/** This package's version, for the servers Keel offers (MCP). */
function keelVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command('keel')
    .description('Run AI agents as durable Temporal workflows.')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showSuggestionAfterError();

  program
    .command('setup')
    .description('find or build the `temporal` CLI (TEMPORAL_CLI_PATH, PATH, cache, else go install) and print its path')
    .action(async () => {
      const config = loadConfig();
      io.out(await findTemporalCli({ ...(config.temporalCliPath ? { explicitPath: config.temporalCliPath } : {}), log: io.err }));
    });

  program
    .command('dev')
    .description('start the local Temporal dev server (SQLite under .keel/, Web UI on :8233) and a worker')
    .option('--run <file>', 'run this scenario once everything is up, and show its progress')
    .action(async (options: { run?: string }) => {
      exitCode = await devCommand(options, io);
    });

  program
    .command('worker')
    .description('run a worker on the task queue ($KEEL_TASK_QUEUE, default "keel")')
    .action(async () => {
      exitCode = await workerCommand(io);
    });

  program
    .command('serve')
    .description('accept runs as webhooks: POST /runs (dedupe by X-Event-Id, X-Keel-Priority, HMAC signature, size limit)')
    .action(async () => {
      exitCode = await serveCommand(io);
    });

  program
    .command('run')
    .description('start an agent run')
    .argument('[goal]', 'what the agent should achieve (overrides the scenario goal)')
    .option('--scenario <file>', 'a scenario file: request + scripted model and tools')
    .option('--budget <usd>', 'hard cap on model spend, in US dollars')
    .option('--id <id>', 'idempotency key: the same id starts one run, later starts attach to it')
    .option('--tools <names>', 'comma-separated tools the plan may use')
    .option('--input <json>', 'the run input, a JSON object')
    .option('--plan <file>', 'your own plan, { "tasks": [...] }: no planner call (--tools defaults to the tools it names)')
    .option('--output-from <task>', "the run's answer is this task's output: no synthesis call")
    .option('--agent', 'the run is one agent loop: a model calls --tools step by step until it answers (no planner, no synthesis)')
    .option('--max-steps <n>', 'with --agent: the most model calls the loop makes (default 10, at most 50)')
    .option('--no-cache', 'no model call of this run reads or writes the response cache')
    .option('--wait', 'wait for the result (exit 0 when completed or partial)')
    .option('--json', 'print JSON only (with --wait: exactly the RunResult)')
    .option('--events', "print the run's live stream as JSON lines until it ends (model text deltas included)")
    .option('--follow <id>', 'attach to a run already started and follow it as --wait does (or as --events or --json say)')
    .action(async (goal: string | undefined, options) => {
      exitCode = await runCommand(goal, options, io);
    });

  program
    .command('status')
    .description('live state of a run')
    .argument('<id>', 'the run (workflow) id')
    .option('--json', 'print the state as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      exitCode = await statusCommand(id, options, io);
    });

  program
    .command('pending')
    .description('runs waiting for a human decision')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      exitCode = await pendingCommand(options, io);
    });

  program
    .command('mcp')
    .description('serve Keel to MCP clients over stdio (or Streamable HTTP with --http): start_run, get_run, list_pending, decide, and each run\'s trace as a resource')
    .option('--http <address>', 'serve Streamable HTTP at http://ADDRESS/mcp instead of stdio (host:port or a port; host defaults to 127.0.0.1)')
    .action(async (options: { http?: string }) => {
      exitCode = await mcpCommand(options, io, keelVersion());
    });

  program
    .command('init [dir]')
    .description('write a small, working project that embeds Keel (a tool, a worker, a scenario and its test) into DIR (default: here)')
    .option('--force', 'write into a directory that is not empty (its files of the same names are replaced)')
    .option('--keel <spec>', 'what package.json depends on for keel: a version range, or the path of a tarball `npm pack` made')
    .action((dir: string | undefined, options: { force?: boolean; keel?: string }) => {
      exitCode = initCommand(dir, options, io);
    });

  program
    .command('tools')
    .description('every tool a worker started here would have: built in, modules (keel.config.json tools, KEEL_TOOLS) and MCP servers (keel.config.json mcpServers)')
    .option('--json', 'print JSON, with each input schema')
    .action(async (options: { json?: boolean }) => {
      exitCode = await toolsCommand(options, io);
    });

  const decisionOptions = (command: Command) =>
    command
      .option('--task <id>', 'the task the decision is about')
      .option('--by <name>', 'who decides (default: this client identity)')
      .option('--wait-for-worker <seconds>', `when no worker polls the run's task queue, wait this long for one (then exit 3, nothing recorded)`, String(defaultWaitForWorkerSeconds));
  decisionOptions(
    program
      .command('approve')
      .description("approve a run's pending escalation")
      .argument('<id>', 'the run id')
      .option('--note <text>', 'why')
      .option('--input <json>', 'a tool_approval: run the tool with this input (a JSON object) instead of the one proposed')
      .option('--budget <usd>', 'a budget_exhausted escalation: raise the budget by this much (default: the request\'s own budget)'),
  ).action(async (id: string, options) => {
    exitCode = await decideCommand(id, 'approve', options, io);
  });
  decisionOptions(program.command('reject').description('reject a run: it ends rejected').argument('<id>', 'the run id').requiredOption('--reason <text>', 'why')).action(
    async (id: string, options) => {
      exitCode = await decideCommand(id, 'reject', options, io);
    },
  );
  decisionOptions(
    program
      .command('replan')
      .description('replan the remaining work with guidance (decides a pending escalation, or asks a running run)')
      .argument('<id>', 'the run id')
      .requiredOption('--guidance <text>', 'what to do differently'),
  ).action(async (id: string, options) => {
    exitCode = await decideCommand(id, 'replan', options, io);
  });
  for (const decision of ['retry', 'skip'] as const) {
    decisionOptions(program.command(decision).description(decision === 'retry' ? 'retry the task a pending escalation is about, or the planner call that failed' : 'skip the task a pending escalation is about').argument('<id>', 'the run id').option('--note <text>', 'why')).action(
      async (id: string, options) => {
        exitCode = await decideCommand(id, decision, options, io);
      },
    );
  }

  program
    .command('codec-server')
    .description('decrypt payloads for the Web UI and CLI (KEEL_CODEC_KEYS; listens on KEEL_CODEC_ADDRESS)')
    .option('--origin <url...>', 'browser origins allowed to call it (default: the Web UI of KEEL_UI_PORT)')
    .action(async (options: { origin?: string[] }) => {
      exitCode = await codecServerCommand(options, io);
    });

  const keys = program.command('keys').description('Ed25519 keys for signed decisions (see docs/security.md)');
  keys
    .command('new')
    .description('make a key pair: KEEL_SIGNING_KEY for a door (keep it secret), KEEL_DECISION_KEYS for the workers')
    .option('--id <id>', 'the key id (letters, digits, _ . -)', `key-${new Date().toISOString().slice(0, 10)}`)
    .option('--identity <name>', 'a personal key: it may sign only as this identity (default: a door key, which signs for whoever its door authenticated)')
    .action((options: { id: string; identity?: string }) => {
      exitCode = keysNewCommand(options, io);
    });

  const schedule = program.command('schedule').description('start runs on a cron expression or an interval (Temporal Schedules)');
  schedule
    .command('create')
    .description('a schedule that starts a scenario (or a goal) each time it fires')
    .argument('[goal]', 'what each run should achieve (overrides the scenario goal)')
    .option('--cron <expression>', 'cron expression, e.g. "0 9 * * 1" (Mondays 09:00 UTC)')
    .option('--every <duration>', 'a fixed interval instead, e.g. 15m or 1h')
    .option('--scenario <file>', 'a scenario file: request + scripted model and tools')
    .option('--budget <usd>', 'hard cap on model spend per run, in US dollars')
    .option('--tools <names>', 'comma-separated tools the plan may use')
    .option('--input <json>', 'the run input, a JSON object')
    .option('--plan <file>', 'your own plan, { "tasks": [...] }: no planner call (--tools defaults to the tools it names)')
    .option('--output-from <task>', "each run's answer is this task's output: no synthesis call")
    .option('--id <name>', 'the schedule name (default: generated)')
    .option('--json', 'print JSON')
    .action(async (goal: string | undefined, options) => {
      exitCode = await scheduleCreateCommand(goal, options, io);
    });
  schedule
    .command('list')
    .description("Keel's schedules with their next and latest runs")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      exitCode = await scheduleListCommand(options, io);
    });
  schedule
    .command('delete')
    .description('delete a schedule (the runs it started are not touched)')
    .argument('<id>', 'the schedule name')
    .action(async (id: string) => {
      exitCode = await scheduleDeleteCommand(id, io);
    });

  program
    .command('export')
    .description('the event history of a run as JSON (replayable, same format as `temporal workflow show --output json`)')
    .argument('<id>', 'the run id')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (id: string, options: { output?: string }) => {
      exitCode = await exportCommand(id, options, io);
    });

  program
    .command('replay')
    .description('replay histories (run ids or exported files) against the current workflow code')
    .argument('<targets...>', 'run ids or history files')
    .action(async (targets: string[]) => {
      exitCode = await replayCommand(targets, io);
    });

  program
    .command('trace')
    .description('the run as a timeline from its history: plans, tasks, retries, failures, waits, cost, critical path')
    .argument('<target>', 'a run id or an exported history file')
    .option('--html <file>', 'also write a self-contained HTML page with a Gantt chart')
    .action(async (target: string, options: { html?: string }) => {
      exitCode = await traceCommand(target, options, io);
    });

  program
    .command('record-histories')
    .description('run every example scenario on a private dev server and save its history (the determinism gate)')
    .option('--examples <dir>', 'scenario files', 'examples')
    .option('--out <dir>', 'where to write the histories', 'test/histories')
    .action(async (options: { examples: string; out: string }) => {
      exitCode = await recordHistoriesCommand(options, io);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  const known: Array<[new (...args: never[]) => Error, number]> = [
    [CliError, ExitCode.badInput],
    [InvalidRequestError, ExitCode.badInput],
    [InvalidScenarioError, ExitCode.badInput],
    [ConfigurationError, ExitCode.badInput],
    [RunNotFoundError, ExitCode.badInput],
    [InvalidDecisionError, ExitCode.badInput],
    [InvalidHistoryError, ExitCode.badInput],
    [TemporalUnreachableError, ExitCode.unreachable],
    [NoWorkerError, ExitCode.unreachable],
    [RunEndedError, ExitCode.badInput],
    [TemporalRefusedError, ExitCode.badInput],
    [TemporalCliNotFoundError, ExitCode.failure],
  ];
  for (const [type, code] of known) {
    if (error instanceof type) {
      io.err(`keel: ${error.message}`);
      return error instanceof CliError ? error.exitCode : code;
    }
  }
  io.err(`keel: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return ExitCode.failure;
}
